"""Keep only the digest of each calendar feed token: the plain token is dropped, after making
sure every row's digest is the SHA-256 of its token (the feed URLs people hold keep working).
A row's digest may from now on be NULL: no link made yet."""

import hashlib

from django.db import migrations, models


def digests_fill(apps, schema_editor):
    ReminderPreferences = apps.get_model("paylink", "ReminderPreferences")
    for row in ReminderPreferences.objects.only("pk", "calendar_token", "calendar_token_sha256"):
        digest = hashlib.sha256(row.calendar_token.encode()).hexdigest() if row.calendar_token else None
        if row.calendar_token_sha256 != digest:
            ReminderPreferences.objects.filter(pk=row.pk).update(calendar_token_sha256=digest)


class Migration(migrations.Migration):
    dependencies = [("paylink", "0090_linkedaccount_card")]

    operations = [
        migrations.AlterField(
            model_name="reminderpreferences",
            name="calendar_token_sha256",
            field=models.CharField(editable=False, max_length=64, null=True, unique=True),
        ),
        # One way: the plain tokens are gone once this runs, as they should be.
        migrations.RunPython(digests_fill, migrations.RunPython.noop),
        migrations.RemoveField(model_name="reminderpreferences", name="calendar_token"),
    ]
