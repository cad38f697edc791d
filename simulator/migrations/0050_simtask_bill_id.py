from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("simulator", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="simtask",
            name="bill_id",
            field=models.CharField(blank=True, max_length=24),
        ),
    ]
