"""Create the database cache's table, so that `migrate` alone leaves a working database.

The host's default cache (sign-in throttles, the task-status poll limit) is a table in the
database. Creating it here, rather than in a separate `createcachetable` step, means no
deployment can forget it. It is idempotent and does nothing when the cache is Redis.
"""

from __future__ import annotations

from django.core.management import call_command
from django.db import migrations


def cache_table_create(apps, schema_editor) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("paylink", "0003_webhook_event_state")]

    # Left in place on the way back: another app's cache may share the table.
    operations = [migrations.RunPython(cache_table_create, migrations.RunPython.noop)]
