"""Each suggestion carries its account's position, and suggestions are indexed in the ways to
save's order (savings, most first; account position; position) within a snapshot: their first
page reads the index's first entries instead of joining every suggestion of the person's to
its account to sort them all. The existing rows take their accounts' positions."""

from django.db import migrations, models

import paylink.lib.nulls_last


class Migration(migrations.Migration):
    dependencies = [
        ("paylink", "0098_linkedaccount_fillfactor"),
    ]

    operations = [
        migrations.AddField(
            model_name="suggestion",
            name="account_position",
            field=models.PositiveIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.RunSQL(
            "UPDATE paylink_suggestion AS s SET account_position = a.position"
            " FROM paylink_linkedaccount AS a WHERE a.id = s.account_id",
            migrations.RunSQL.noop,
        ),
        migrations.AddIndex(
            model_name="suggestion",
            index=paylink.lib.nulls_last.NullsLastIndex(
                models.F("snapshot"),
                models.OrderBy(models.F("monthly_savings"), descending=True, nulls_last=True),
                models.F("account_position"),
                models.F("position"),
                name="suggestion_rank",
            ),
        ),
    ]
