"""The snapshot's payload and each account's card as `json` columns on PostgreSQL
(`paylink/lib/json_text.py`): written whole and read whole, never queried inside, so the text
is kept as it came instead of parsed into jsonb at every sync and turned back into text at every
read. Every stored value is kept (converted in place); SQLite's columns are text already. The
payload keeps lz4 compression where the server has it (0094): a change of type drops it.
"""

from django.db import migrations

import paylink.lib.json_text

COLUMNS = (
    ("paylink_accountsnapshot", "payload"),
    ("paylink_linkedaccount", "card"),
)


def to_json(apps, schema_editor):
    _convert(schema_editor, "json")


def to_jsonb(apps, schema_editor):
    _convert(schema_editor, "jsonb")


def _convert(schema_editor, kind):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table, column in COLUMNS:
            cursor.execute(
                f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE {kind}'
                f' USING "{column}"::{kind}'
            )
        cursor.execute(
            "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression'"
            " AND 'lz4' = ANY(enumvals)"
        )
        if cursor.fetchone() is not None:
            cursor.execute(
                'ALTER TABLE "paylink_accountsnapshot" ALTER COLUMN "payload" SET COMPRESSION lz4'
            )


class Migration(migrations.Migration):
    dependencies = [("paylink", "0095_download_kept_compressed")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="accountsnapshot",
                    name="payload",
                    field=paylink.lib.json_text.JsonTextField(blank=True, default=dict),
                ),
                migrations.AlterField(
                    model_name="linkedaccount",
                    name="card",
                    field=paylink.lib.json_text.JsonTextField(default=dict),
                ),
            ],
            database_operations=[migrations.RunPython(to_json, to_jsonb)],
        ),
    ]
