"""The accounts', bills' and suggestions' own indexes on their snapshot are dropped: each is
found by its snapshot through a composite index that leads with it ((snapshot, position),
`bill_list_order`, `suggestion_rank`), and every sync wrote the single-column one for nothing."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("paylink", "0099_suggestion_account_position"),
    ]

    operations = [
        migrations.AlterField(
            model_name="bill",
            name="snapshot",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="bills",
                to="paylink.accountsnapshot",
            ),
        ),
        migrations.AlterField(
            model_name="linkedaccount",
            name="snapshot",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="accounts",
                to="paylink.accountsnapshot",
            ),
        ),
        migrations.AlterField(
            model_name="suggestion",
            name="snapshot",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="suggestions",
                to="paylink.accountsnapshot",
            ),
        ),
    ]
