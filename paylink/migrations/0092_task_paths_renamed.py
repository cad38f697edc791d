"""The background tasks took their services' names: jobs stored under the old names (waiting,
running or finished) are renamed, so the workers can still run them and account deletion and the
person's timeline still find them by their path."""

from django.db import migrations

RENAMED = {
    "paylink.tasks.sync_accounts": "paylink.tasks.accounts_sync",
    "paylink.tasks.process_webhook_event": "paylink.tasks.webhook_event_process",
    "paylink.tasks.check_task_status": "paylink.tasks.task_status_refresh",
    "paylink.tasks.reconcile_task": "paylink.tasks.reconcile_task_check",
    "paylink.tasks.reconcile_profile": "paylink.tasks.reconcile_profile_tasks",
    "paylink.tasks.reconcile_accounts": "paylink.tasks.reconcile_profile_sync",
}


def rename(apps, schema_editor, renamed=RENAMED):
    results = apps.get_model("django_tasks_database", "DBTaskResult")
    for old, new in renamed.items():
        results.objects.filter(task_path=old).update(task_path=new)


def rename_back(apps, schema_editor):
    rename(apps, schema_editor, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("paylink", "0091_calendar_token_digest_only"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(rename, rename_back)]
