"""The data download's accounts part as its first download after a sync wrote it
(`AccountsDownload`); each bill's due day in the person's time zone, written at sync for the
month view (`Bill.due_day`, `due_dom`); and digests of each account's suggestions and payments,
so a changed account keeps those rows where they came out the same.

Rows written before these columns lack them: their digests and their snapshot's are cleared, so
the next read rebuilds them from the stored payload (`accounts_rows_ensure`) and the next sync
rewrites every account (`manage.py paylink_rows_refill` does it at once). On PostgreSQL the
large values (the payload, the download's text) are compressed with lz4 where the server has it.
"""

import django.db.models.deletion
from django.db import migrations, models


def lz4_where_available(apps, schema_editor):
    # PostgreSQL compresses a large value as it writes it: lz4 does it several times faster
    # than the default, which a 5,000-account payload (megabytes) pays at every sync that
    # changes it. Only values written from now on; nothing is rewritten.
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression'"
            " AND 'lz4' = ANY(enumvals)"
        )
        if cursor.fetchone() is None:
            return
        for table, column in LARGE_VALUES:
            cursor.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET COMPRESSION lz4')


LARGE_VALUES = (
    ("paylink_accountsnapshot", "payload"),
    ("paylink_accountsdownload", "payload"),
    ("paylink_accountsdownload", "bills"),
)


def rows_to_rebuild(apps, schema_editor):
    apps.get_model("paylink", "LinkedAccount").objects.update(digest="")
    apps.get_model("paylink", "AccountSnapshot").objects.exclude(version=0).update(
        payload_sha256=""
    )


class Migration(migrations.Migration):
    dependencies = [("paylink", "0093_reminders_move_out")]

    operations = [
        migrations.CreateModel(
            name="AccountsDownload",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("version", models.PositiveIntegerField()),
                ("payload", models.TextField()),
                ("bills", models.TextField()),
                (
                    "snapshot",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="download",
                        to="paylink.accountsnapshot",
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="linkedaccount",
            name="suggestions_digest",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="linkedaccount",
            name="payments_digest",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="bill",
            name="due_day",
            field=models.DateField(null=True),
        ),
        migrations.AddField(
            model_name="bill",
            name="due_dom",
            field=models.PositiveSmallIntegerField(null=True),
        ),
        migrations.RunPython(rows_to_rebuild, migrations.RunPython.noop),
        migrations.RunPython(lz4_where_available, migrations.RunPython.noop),
    ]
