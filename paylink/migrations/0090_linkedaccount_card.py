"""Each account's card data on its row (`LinkedAccount.card`).

Rows written before the column have an empty card: their digests and their snapshot's are
cleared, so the next read rebuilds them from the stored payload (`accounts_rows_ensure`) and
the next sync rewrites every account (`manage.py paylink_rows_refill` does it at once).
"""

from django.db import migrations, models


def rows_to_rebuild(apps, schema_editor):
    apps.get_model("paylink", "LinkedAccount").objects.update(digest="")
    apps.get_model("paylink", "AccountSnapshot").objects.exclude(version=0).update(
        payload_sha256=""
    )


class Migration(migrations.Migration):
    dependencies = [("paylink", "0081_profile_reconcile_open_statistics")]

    operations = [
        migrations.AddField(
            model_name="linkedaccount",
            name="card",
            field=models.JSONField(default=dict),
        ),
        migrations.RunPython(rows_to_rebuild, migrations.RunPython.noop),
    ]
