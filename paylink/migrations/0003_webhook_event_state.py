"""Webhook events get an explicit state; refused requests keep no body; signed ones claim their
body digest as well as their ce-id."""

import hashlib
import json
from datetime import UTC, datetime

import django.db.models.deletion
from django.db import migrations, models

# The sentences JsonRejected used for a signed body the host could not read.
_UNREADABLE = ("The body ", "The JSON ")


def _event_time(body):
    try:
        raw = json.loads(body).get("eventTime")
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except (ValueError, TypeError, AttributeError, RecursionError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def states_from_flags(apps, schema_editor):
    WebhookEvent = apps.get_model("paylink", "WebhookEvent")
    claimed = {}
    for event in WebhookEvent.objects.order_by("pk").iterator():
        raw = event.body.encode("utf-8", errors="surrogatepass")
        event.body_size = len(raw)
        event.body_sha256 = hashlib.sha256(raw).hexdigest()
        event.note, event.error = event.error, ""
        if not event.signature_valid and event.note.startswith("Duplicate"):
            event.state = "duplicate"
        elif not event.signature_valid:
            # Whatever anyone sent was kept whole; keep only its size and digest now.
            event.state, event.body = "rejected_signature", ""
        elif event.body_sha256 in claimed:
            # A replay under a new ce-id, accepted before bodies were de-duplicated.
            event.state = "duplicate"
            event.duplicate_of_id = claimed[event.body_sha256]
            event.note = f"Same body as event {event.duplicate_of_id}: a retry or a replay."
        else:
            claimed[event.body_sha256] = event.pk
            if event.processed_at is None:
                event.state = "received"
            elif event.note.startswith(_UNREADABLE):
                event.state = "invalid"
            else:
                event.state = "processed"
            event.event_time = _event_time(event.body)
        event.save()



def flags_from_states(apps, schema_editor):
    WebhookEvent = apps.get_model("paylink", "WebhookEvent")
    claimed = ["received", "stale", "invalid", "processed", "failed"]
    WebhookEvent.objects.filter(state__in=claimed).update(signature_valid=True)
    for event in WebhookEvent.objects.exclude(note="").iterator():
        event.error = event.error or event.note
        event.save(update_fields=["error"])


class Migration(migrations.Migration):

    dependencies = [
        ('paylink', '0002_sync_coalescing_and_reconcile_marks'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='webhookevent',
            name='webhookevent_unique_valid_ce_id',
        ),
        migrations.AddField(
            model_name='webhookevent',
            name='attempts',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='webhookevent',
            name='body_sha256',
            field=models.CharField(blank=True, max_length=64, verbose_name='body SHA-256'),
        ),
        migrations.AddField(
            model_name='webhookevent',
            name='body_size',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='webhookevent',
            name='duplicate_of',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='duplicates', to='paylink.webhookevent'),
        ),
        migrations.AddField(
            model_name='webhookevent',
            name='event_time',
            field=models.DateTimeField(blank=True, null=True, verbose_name='eventTime'),
        ),
        migrations.AddField(
            model_name='webhookevent',
            name='note',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='webhookevent',
            name='state',
            field=models.CharField(choices=[('received', 'Received'), ('rejected_signature', 'Rejected (signature)'), ('duplicate', 'Duplicate'), ('stale', 'Stale'), ('invalid', 'Invalid'), ('processed', 'Processed'), ('failed', 'Failed')], default='received', max_length=32),
        ),
        migrations.AddField(
            model_name='webhookevent',
            name='traceback',
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name='webhookevent',
            name='body',
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(states_from_flags, flags_from_states),
        migrations.AddIndex(
            model_name='webhookevent',
            index=models.Index(fields=['state', 'received_at'], name='paylink_web_state_917d3f_idx'),
        ),
        migrations.AddIndex(
            model_name='webhookevent',
            index=models.Index(fields=['task_atomic_id', 'event_time'], name='paylink_web_task_at_b737e7_idx'),
        ),
        migrations.AddConstraint(
            model_name='webhookevent',
            constraint=models.UniqueConstraint(condition=models.Q(('state__in', ('received', 'stale', 'invalid', 'processed', 'failed')), models.Q(('ce_id', ''), _negated=True)), fields=('ce_id',), name='webhookevent_unique_claimed_ce_id'),
        ),
        migrations.AddConstraint(
            model_name='webhookevent',
            constraint=models.UniqueConstraint(condition=models.Q(('state__in', ('received', 'stale', 'invalid', 'processed', 'failed'))), fields=('body_sha256',), name='webhookevent_unique_claimed_body'),
        ),
        migrations.RemoveField(
            model_name='webhookevent',
            name='signature_valid',
        ),
    ]
