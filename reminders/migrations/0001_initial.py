"""The reminder models, taken over from the `paylink` app (paylink/migrations/0093) as they are.

The tables keep their `paylink_` names (`db_table`), so only Django's record moves: no row is
copied. The content types are relabelled rather than recreated, so the permissions granted on
them and the admin's history of the rows stay attached.
"""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

MODELS = ["reminderdelivery", "reminderpreferences"]


def content_types_relabel(apps, schema_editor, *, old="paylink", new="reminders"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    taken = set(
        ContentType.objects.using(db)
        .filter(app_label=new, model__in=MODELS)
        .values_list("model", flat=True)
    )
    ContentType.objects.using(db).filter(app_label=old, model__in=MODELS).exclude(
        model__in=taken
    ).update(app_label=new)


def content_types_relabel_back(apps, schema_editor):
    content_types_relabel(apps, schema_editor, old="reminders", new="paylink")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("paylink", "0093_reminders_move_out"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ReminderDelivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('due', 'Due-date reminder'), ('weekly', 'Weekly summary')], max_length=16)),
                        ('account_id', models.CharField(blank=True, max_length=64, verbose_name='PayLink account id')),
                        ('due_date', models.DateField()),
                        ('sent_at', models.DateTimeField()),
                        ('profile', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reminder_deliveries', to='paylink.profile')),
                    ],
                    options={
                        'verbose_name_plural': 'reminder deliveries',
                        'db_table': 'paylink_reminderdelivery',
                        'ordering': ['-sent_at'],
                        'constraints': [models.UniqueConstraint(fields=('profile', 'kind', 'account_id', 'due_date'), name='reminderdelivery_once_per_bill_and_date')],
                    },
                ),
                migrations.CreateModel(
                    name='ReminderPreferences',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('days_before', models.PositiveSmallIntegerField(default=3, help_text='From 0 (on the day) to 30.', validators=[django.core.validators.MaxValueValidator(30)], verbose_name='days before the due date')),
                        ('email_reminders', models.BooleanField(default=False, verbose_name='email me before each due date')),
                        ('weekly_summary', models.BooleanField(default=False, verbose_name='email me a weekly summary')),
                        ('calendar_token_sha256', models.CharField(editable=False, max_length=64, null=True, unique=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('profile', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='reminder_preferences', to='paylink.profile')),
                    ],
                    options={
                        'verbose_name_plural': 'reminder preferences',
                        'db_table': 'paylink_reminderpreferences',
                        'constraints': [models.CheckConstraint(condition=models.Q(('days_before__lte', 30)), name='reminderpreferences_days_before_at_most_30')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_relabel, content_types_relabel_back),
    ]
