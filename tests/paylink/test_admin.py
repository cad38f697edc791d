from __future__ import annotations

import hashlib
import hmac
import json
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from paylink.atomic_values import account_numbers_masked
from paylink.client import AtomicError
from paylink.models import AccountSnapshot, SdkEvent, Task, WebhookEvent, WebhookState
from tests.atomic_json import atomic_json
from tests.paylink.conftest import staff_login_with_code
from tests.people import person_create, profile_of

HULU = atomic_json("accounts/hulu")
MODELS = ["profile", "task", "accountsnapshot", "webhookevent", "sdkevent"]


@pytest.fixture
def staff(db, client):
    admin = User.objects.create_superuser("sam", password="sam-pass-1234")
    return staff_login_with_code(client, admin)


@pytest.fixture
def records(alice_profile):
    task = Task.objects.create(profile=alice_profile, atomic_id="t-1", status="processing")
    snapshot = AccountSnapshot.objects.create(profile=alice_profile, payload=HULU, version=1)
    body = json.dumps(
        {
            "eventType": "task-status-updated",
            "user": {"identifier": "hub_alice"},
            "data": {"taskId": "t-1", "status": "completed"},
        }
    )
    webhook = WebhookEvent.objects.create(
        ce_id="ce-1",
        event_type="task-status-updated",
        body=body,
        headers={"ce-id": "ce-1"},
        state=WebhookState.FAILED,
        error="OperationalError: database is locked",
        traceback="Traceback (most recent call last):\nOperationalError: database is locked",
    )
    forged = WebhookEvent.objects.create(
        ce_id="ce-1", state=WebhookState.REJECTED_SIGNATURE, body_size=len(body)
    )
    sdk = SdkEvent.objects.create(profile=alice_profile, kind="finish", payload={"taskId": "t-1"})
    return {
        "profile": alice_profile,
        "task": task,
        "accountsnapshot": snapshot,
        "webhookevent": webhook,
        "forged": forged,
        "sdkevent": sdk,
    }


@pytest.fixture
def atomic(atomic):
    """Atomic's answer to GET /accounts: Hulu's account."""
    atomic.accounts_get.return_value = HULU
    return atomic


@pytest.mark.parametrize("model", MODELS)
def test_staff_can_open_every_changelist_and_change_page(staff, records, model):
    changelist = staff.get(reverse(f"admin:paylink_{model}_changelist"))
    assert changelist.status_code == 200
    change = staff.get(reverse(f"admin:paylink_{model}_change", args=[records[model].pk]))
    assert change.status_code == 200


def _more_rows(model: str, profiles: list) -> None:
    """Three more rows of `model`'s changelist, each of another person where it has one."""
    for n, profile in enumerate(profiles):
        match model:
            case "profile":
                person = profile_of(person_create(f"extra-{n}"))
                Task.objects.create(profile=person, atomic_id=f"extra-{n}")
            case "task":
                Task.objects.create(profile=profile, atomic_id=f"extra-{n}")
            case "accountsnapshot":
                person = profile_of(person_create(f"extra-{n}"))
                AccountSnapshot.objects.create(profile=person, payload=HULU, version=1)
            case "webhookevent":
                WebhookEvent.objects.create(
                    ce_id=f"ce-extra-{n}", event_type="task-status-updated", body_sha256=f"{n:064x}"
                )
            case "sdkevent":
                SdkEvent.objects.create(profile=profile, kind="close")


@pytest.mark.parametrize("model", MODELS)
def test_the_changelists_do_not_query_per_row(
    staff, records, model, django_assert_max_num_queries, alice_profile, bob_profile
):
    url = reverse(f"admin:paylink_{model}_changelist")
    staff.get(url)
    with CaptureQueriesContext(connection) as queries:
        first = staff.get(url)
    rows = first.context["cl"].result_count
    _more_rows(model, [bob_profile, alice_profile, bob_profile])
    # Three more rows on the page, and not one query more.
    with django_assert_max_num_queries(len(queries)):
        page = staff.get(url)
    assert page.status_code == 200
    assert page.context["cl"].result_count == rows + 3


def test_the_snapshot_page_shows_only_the_last_four_of_account_numbers(staff, records):
    page = staff.get(
        reverse("admin:paylink_accountsnapshot_change", args=[records["accountsnapshot"].pk])
    ).content.decode()
    assert "8498390016491919" not in page
    assert "••••1919" in page
    assert "Hulu" in page


def test_the_snapshot_page_masks_by_the_one_rule_the_host_stores_by(staff, records):
    page = staff.get(
        reverse("admin:paylink_accountsnapshot_change", args=[records["accountsnapshot"].pk])
    ).content.decode()
    # As stored: PostgreSQL's jsonb keeps keys in an order of its own.
    stored = AccountSnapshot.objects.get(pk=records["accountsnapshot"].pk).payload
    assert stored == HULU
    masked = json.dumps(account_numbers_masked(stored), indent=2, ensure_ascii=False)
    assert escape(masked) in page


@pytest.mark.parametrize("model", ["webhookevent", "sdkevent", "accountsnapshot"])
def test_evidence_cannot_be_added_by_hand(staff, db, model):
    assert staff.get(reverse(f"admin:paylink_{model}_add")).status_code == 403


def test_a_webhook_event_cannot_be_edited(staff, records):
    url = reverse("admin:paylink_webhookevent_change", args=[records["webhookevent"].pk])
    # Shown without a form to change it, and a change sent anyway is refused.
    page = staff.get(url).content.decode()
    assert 'name="_save"' not in page
    assert 'name="error"' not in page
    assert staff.post(url, {"body": "{}", "error": "edited"}).status_code == 403
    records["webhookevent"].refresh_from_db()
    assert records["webhookevent"].error == "OperationalError: database is locked"


def test_a_non_staff_user_is_sent_to_the_admin_login(client, records, alice_profile):
    client.force_login(alice_profile.user)
    for model in MODELS:
        response = client.get(reverse(f"admin:paylink_{model}_changelist"))
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


def act(staff, model: str, action: str, pks: list[int]):
    return staff.post(
        reverse(f"admin:paylink_{model}_changelist"),
        {"action": action, "_selected_action": [str(pk) for pk in pks]},
        follow=True,
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_resync_from_profiles_reports_successes_and_failures(
    staff, alice_profile, bob_profile, atomic
):
    def accounts_get(*, identifier):
        if identifier == "hub_bob":
            raise AtomicError("Atomic answered 503.", status=503, retryable=True)
        return HULU

    atomic.accounts_get.side_effect = accounts_get
    response = act(staff, "profile", "resync_accounts", [alice_profile.pk, bob_profile.pk])
    assert AccountSnapshot.objects.get(profile=alice_profile).version == 1
    assert AccountSnapshot.objects.get(profile=bob_profile).last_error == "Atomic answered 503."
    shown = messages_of(response)
    assert "Re-sync accounts: 1 succeeded." in shown
    assert any("1 failed" in m and "503" in m for m in shown)


def test_resync_from_snapshots_fetches_again(staff, records, atomic):
    atomic.accounts_get.return_value = {"accounts": []}
    response = act(staff, "accountsnapshot", "resync_accounts", [records["accountsnapshot"].pk])
    atomic.accounts_get.assert_called_once_with(identifier="hub_alice")
    assert AccountSnapshot.objects.get().version == 2
    assert "Re-sync accounts: 1 succeeded." in messages_of(response)


def test_rerun_applies_failed_events_and_never_refused_ones(staff, records, atomic):
    response = act(
        staff, "webhookevent", "rerun", [records["webhookevent"].pk, records["forged"].pk]
    )
    assert Task.objects.get(atomic_id="t-1").status == "completed"
    records["webhookevent"].refresh_from_db()
    assert (records["webhookevent"].state, records["webhookevent"].error) == ("processed", "")
    records["forged"].refresh_from_db()
    assert records["forged"].state == "rejected_signature"
    shown = messages_of(response)
    assert "Re-run: 1 succeeded." in shown
    assert "Re-run: 1 event(s) skipped (only failed or waiting events are re-run)." in shown


def test_end_monitoring_reports_each_outcome(staff, alice_profile, bob_profile, atomic):
    def end_monitoring(*, identifier):
        if identifier == "hub_bob":
            raise AtomicError("Atomic answered 404.", status=404)

    atomic.user_end_monitoring.side_effect = end_monitoring
    response = act(staff, "profile", "end_monitoring", [alice_profile.pk, bob_profile.pk])
    alice_profile.refresh_from_db()
    bob_profile.refresh_from_db()
    assert alice_profile.monitoring_ended_at is not None
    assert bob_profile.monitoring_ended_at is None
    shown = messages_of(response)
    assert "End monitoring: 1 succeeded." in shown
    assert any("End monitoring: 1 failed" in m for m in shown)


def test_the_webhook_page_never_shows_the_api_secret(staff, records, settings):
    settings.ATOMIC_API_SECRET = "admin-page-secret"
    body = records["webhookevent"].body.encode()
    records["webhookevent"].headers = {
        "x-hmac-signature-sha-256": hmac.new(b"admin-page-secret", body, hashlib.sha256).hexdigest()
    }
    records["webhookevent"].save()
    page = staff.get(
        reverse("admin:paylink_webhookevent_change", args=[records["webhookevent"].pk])
    ).content.decode()
    assert "admin-page-secret" not in page
    assert "task-status-updated" in page


def test_the_webhook_list_shows_and_filters_by_state(staff, records):
    url = reverse("admin:paylink_webhookevent_changelist")
    response = staff.get(url, {"state__exact": "failed"})
    assert list(response.context["cl"].result_list) == [records["webhookevent"]]
    assert "OperationalError: database is locked" in response.content.decode()
    response = staff.get(url, {"state__exact": "rejected_signature"})
    assert list(response.context["cl"].result_list) == [records["forged"]]
    assert "Rejected (signature)</td>" in response.content.decode()


def test_a_failed_webhook_shows_its_traceback_and_a_refused_one_no_body(staff, records):
    page = staff.get(
        reverse("admin:paylink_webhookevent_change", args=[records["webhookevent"].pk])
    ).content.decode()
    assert "Traceback (most recent call last):" in page
    page = staff.get(
        reverse("admin:paylink_webhookevent_change", args=[records["forged"].pk])
    ).content.decode()
    assert "Not kept: the signature was missing or wrong." in page


def test_rerun_reports_an_event_that_fails_again(staff, records, atomic):
    with mock.patch(
        "paylink.services.webhooks.task_record", side_effect=RuntimeError("still broken")
    ):
        response = act(staff, "webhookevent", "rerun", [records["webhookevent"].pk])
    records["webhookevent"].refresh_from_db()
    assert records["webhookevent"].state == "failed"
    assert records["webhookevent"].error == "RuntimeError: still broken"
    assert any("Re-run: 1 failed" in m and "still broken" in m for m in messages_of(response))


def test_a_duplicate_webhook_points_to_the_original_for_its_body(staff, records):
    copy = WebhookEvent.objects.create(
        ce_id="ce-2",
        state=WebhookState.DUPLICATE,
        duplicate_of=records["webhookevent"],
        body_size=len(records["webhookevent"].body),
    )
    page = staff.get(reverse("admin:paylink_webhookevent_change", args=[copy.pk])).content.decode()
    assert f"Not kept again: the same as event {records['webhookevent'].pk}." in page


def test_the_admin_carries_the_sites_title_and_plural_names(staff):
    html = staff.get("/admin/").content.decode()
    assert "Billfold administration" in html
    assert "Django administration" not in html
    assert "Reminder deliveries" in html
    assert "Reminder deliverys" not in html
    assert "SDK events" in html


def test_the_task_list_shows_what_support_scans(staff, alice_profile):
    Task.objects.create(
        profile=alice_profile,
        atomic_id="t-9",
        status="failed",
        fail_reason="bad-credentials",
        company_name="Streamly",
        operation="action",
        action_type="pause",
    )
    html = staff.get("/admin/paylink/task/").content.decode()
    for column in ["Person", "Company", "Kind", "Status", "Fail reason", "Age"]:
        assert f">{column}<" in html or f">{column}</a>" in html, column
    assert reverse("admin:paylink_profile_change", args=[alice_profile.pk]) in html
    assert "Streamly" in html
    assert "action pause" in html
    assert "bad-credentials" in html
    filtered = staff.get("/admin/paylink/task/?status__exact=completed").content.decode()
    assert "Streamly" not in filtered


def test_a_tasks_status_is_picked_from_the_known_ones(staff, alice_profile):
    task = Task.objects.create(profile=alice_profile, atomic_id="t-2", status="processing")
    html = staff.get(f"/admin/paylink/task/{task.pk}/change/").content.decode()
    assert '<select name="status"' in html
    assert '<option value="completed"' in html
    # A status Atomic sent that the host does not know is kept as a choice, not rewritten.
    odd = Task.objects.create(profile=alice_profile, atomic_id="t-3", status="paused-by-atomic")
    html = staff.get(f"/admin/paylink/task/{odd.pk}/change/").content.decode()
    assert '<option value="paused-by-atomic" selected' in html


def test_a_persons_page_shows_their_tasks_events_webhooks_and_syncs_on_one_timeline(staff, records):
    profile = records["profile"]
    profile.identifier = "hub_alice"
    profile.save(update_fields=["identifier"])
    WebhookEvent.objects.filter(pk=records["webhookevent"].pk).update(identifier="hub_alice")
    snapshot = records["accountsnapshot"]
    from django.utils import timezone

    AccountSnapshot.objects.filter(pk=snapshot.pk).update(
        fetched_at=timezone.now(), last_error="Atomic timed out", last_error_at=timezone.now()
    )
    html = staff.get(f"/admin/paylink/profile/{profile.pk}/change/").content.decode()
    assert 'class="paylink-timeline"' in html
    timeline = html[html.index('class="paylink-timeline"') :]
    assert reverse("admin:paylink_task_change", args=[records["task"].pk]) in timeline
    assert reverse("admin:paylink_sdkevent_change", args=[records["sdkevent"].pk]) in timeline
    assert reverse("admin:paylink_webhookevent_change", args=[records["webhookevent"].pk]) in (
        timeline
    )
    assert "accounts fetched (v1)" in timeline
    assert "sync failed: Atomic timed out" in timeline
    # Someone else's records are not on it.
    assert reverse("admin:paylink_webhookevent_change", args=[records["forged"].pk]) not in (
        timeline
    )


def test_the_timeline_lists_a_persons_queued_sync_jobs_and_no_one_elses(
    staff, alice_profile, bob_profile
):
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    def job(profile_id: int, status: str) -> DBTaskResult:
        return DBTaskResult.objects.create(
            task_path="paylink.tasks.accounts_sync",
            args_kwargs={"args": [profile_id], "kwargs": {}},
            queue_name="atomic",
            backend_name="default",
            run_after=timezone.now(),
            status=status,
        )

    mine = job(alice_profile.pk, "FAILED")
    theirs = job(bob_profile.pk, "SUCCESSFUL")
    html = staff.get(f"/admin/paylink/profile/{alice_profile.pk}/change/").content.decode()
    timeline = html[html.index('class="paylink-timeline"') :]
    assert "sync job failed" in timeline
    assert str(mine.pk) in timeline
    assert str(theirs.pk) not in timeline


def test_a_persons_time_zone_is_picked_from_zoneinfos(staff, alice_profile):
    url = f"/admin/paylink/profile/{alice_profile.pk}/change/"
    html = staff.get(url).content.decode()
    assert '<select name="time_zone"' in html
    assert '<option value="America/Bogota">' in html
