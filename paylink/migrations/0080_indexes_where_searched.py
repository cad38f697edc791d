import django.db.models.deletion
import django.db.models.expressions
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('paylink', '0070_operation_tally'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='sdkevent',
            name='profile',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='sdk_events', to='paylink.profile'),
        ),
        migrations.AddIndex(
            model_name='profile',
            index=models.Index(models.ExpressionWrapper(django.db.models.expressions.CombinedExpression(models.F('tasks_listed_at'), '-', models.F('transact_opened_at')), output_field=models.DurationField()), condition=models.Q(('transact_opened_at__isnull', False)), name='profile_reconcile_open'),
        ),
        migrations.AddIndex(
            model_name='sdkevent',
            index=models.Index(fields=['profile', 'created_at'], name='sdkevent_profile_created'),
        ),
        migrations.AddIndex(
            model_name='webhookevent',
            index=models.Index(fields=['identifier', 'received_at'], name='webhookevent_identifier'),
        ),
    ]
