"""The data download's accounts part kept compressed, as a piece of a gzip body
(`paylink/lib/gzip_pieces.py`), in place of its text: what is kept is worked out again from the
record by the next download, so the table starts empty. On PostgreSQL its bytes are stored as
they are, never compressed a second time.
"""

import django.db.models.deletion
from django.db import migrations, models


def stored_as_they_are(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            'ALTER TABLE "paylink_accountsdownload" ALTER COLUMN "deflated" SET STORAGE EXTERNAL'
        )


class Migration(migrations.Migration):
    dependencies = [("paylink", "0094_read_model_exports_and_days")]

    operations = [
        migrations.DeleteModel(name="AccountsDownload"),
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
                ("deflated", models.BinaryField()),
                ("crc32", models.PositiveBigIntegerField()),
                ("size", models.PositiveBigIntegerField()),
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
        migrations.RunPython(stored_as_they_are, migrations.RunPython.noop),
    ]
