"""The snapshot keeps the dashboard's totals that do not depend on the day (`totals`), written
with its rows.

Existing snapshots are not filled: null means "not known", and the dashboard then totals the
rows in SQL as before, with the same figures; the next sync that brings new data, time-zone
change or rebuild of a person's rows keeps them. Filling them here would run three grouped
queries per snapshot inside the deploy, for a few milliseconds off each one's next cold render.

The payload stays its table's last column on SQLite (0008): there a column stored after it
costs a walk over its overflow pages on every read. The table is remade anyway by most of
SQLite's changes; here it is remade once, the new column in and the payload moved after it.
PostgreSQL keeps a large payload out of line, so a column after it costs nothing: it gets the
column alone, and no payload is rewritten.
"""

from django.db import migrations

import paylink.lib.json_text


def totals_add(apps, schema_editor):
    snapshots = apps.get_model("paylink", "AccountSnapshot")
    totals = snapshots._meta.get_field("totals")
    if schema_editor.connection.vendor != "sqlite":
        schema_editor.add_field(snapshots, totals)
        return
    payload = snapshots._meta.get_field("payload")
    # How SQLite's schema editor makes every change it cannot ALTER: a new table, copied. A
    # table's columns follow the order their fields were made in: the payload "altered" into
    # a copy of itself, made last, goes last.
    moved = payload.clone()
    moved.set_attributes_from_name("payload")
    schema_editor._remake_table(snapshots, create_field=totals, alter_fields=[(payload, moved)])


def totals_remove(apps, schema_editor):
    snapshots = apps.get_model("paylink", "AccountSnapshot")
    schema_editor.remove_field(snapshots, snapshots._meta.get_field("totals"))


class Migration(migrations.Migration):
    dependencies = [
        ("paylink", "0100_snapshot_found_by_composite_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="accountsnapshot",
                    name="totals",
                    field=paylink.lib.json_text.JsonTextField(blank=True, null=True),
                ),
            ],
        ),
        migrations.RunPython(totals_add, totals_remove),
    ]
