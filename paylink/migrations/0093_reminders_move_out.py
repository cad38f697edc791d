"""The reminder models now belong to the `reminders` app (reminders/migrations/0001_initial.py).

Only Django's record of them moves: the tables keep their names, so no row is copied and nothing
is locked.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("paylink", "0092_task_paths_renamed"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ReminderDelivery"),
                migrations.DeleteModel(name="ReminderPreferences"),
            ],
            database_operations=[],
        ),
    ]
