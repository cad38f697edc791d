from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('paylink', '0040_admin_names'),
    ]

    operations = [
        migrations.CreateModel(
            name='WorkerHeartbeat',
            fields=[
                ('worker_id', models.CharField(max_length=64, primary_key=True, serialize=False)),
                ('started_at', models.DateTimeField()),
                ('beat_at', models.DateTimeField(db_index=True)),
            ],
        ),
    ]
