"""Bills indexed in the bills list's order (due date, company, id) within a snapshot: its first
page reads the index's first entries instead of sorting every bill of the person's."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("paylink", "0096_json_text_columns"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="bill",
            name="paylink_bil_snapsho_c4c836_idx",
        ),
        migrations.AddIndex(
            model_name="bill",
            index=models.Index(
                fields=["snapshot", "due_at", "company_name", "id"], name="bill_list_order"
            ),
        ),
    ]
