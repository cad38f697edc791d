"""A signed-in person downloads their own data, or deletes their account with it."""

from __future__ import annotations

import hashlib
import json
import logging

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.cache import cache, caches
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django_tasks_db.models import DBTaskResult, TaskResultStatus, get_date_max

from paylink.client import AtomicError
from paylink.lib.cache_prefix import cache_delete_prefix
from paylink.models import AccountSnapshot, Profile, SdkEvent, Task, WebhookEvent, WebhookState
from paylink.selectors.tasks import task_cache_key
from tests.atomic_json import atomic_json
from tests.paylink.conftest import staff_login_with_code

HULU = atomic_json("accounts/hulu")


def records_of(user: User, identifier: str) -> Profile:
    # Signing in may have made the profile already; the records need a known identifier.
    profile, _ = Profile.objects.update_or_create(user=user, defaults={"identifier": identifier})
    Task.objects.create(profile=profile, atomic_id=f"task-{identifier}", status="completed")
    AccountSnapshot.objects.create(profile=profile, payload=HULU, version=1)
    SdkEvent.objects.create(profile=profile, kind="finish", payload={"taskId": "t"})
    body = json.dumps({"eventType": "task-status-updated", "user": {"identifier": identifier}})
    WebhookEvent.objects.create(
        ce_id=f"ce-{identifier}",
        identifier=identifier,
        body=body,
        body_sha256=hashlib.sha256(body.encode()).hexdigest(),
        state=WebhookState.PROCESSED,
    )
    return profile


@pytest.fixture
def alices(alice) -> Profile:
    return records_of(alice, "hub_alice")


@pytest.fixture
def bobs(bob) -> Profile:
    return records_of(bob, "hub_bob")


def test_the_page_asks_a_signed_out_visitor_to_sign_in(client, db):
    response = client.get(reverse("paylink:account"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_page_offers_the_download_and_the_deletion(alice_client):
    response = alice_client.get(reverse("paylink:account"))
    assert response.status_code == 200
    assert reverse("paylink:account-export").encode() in response.content
    assert b'name="password"' in response.content


def download(client) -> tuple[object, bytes]:
    response = client.get(reverse("paylink:account-export"))
    return response, b"".join(response.streaming_content)


def test_the_download_holds_the_persons_own_data_only(alice_client, alices, bobs):
    response, content = download(alice_client)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="payments-hub-data.json"'
    assert response["Content-Type"] == "application/json"
    data = json.loads(content)
    assert data["account"]["username"] == "alice"
    assert data["profile"]["identifier"] == "hub_alice"
    assert [task["atomic_id"] for task in data["tasks"]] == ["task-hub_alice"]
    assert [event["kind"] for event in data["sdk_events"]] == ["finish"]
    assert [event["body"]["user"]["identifier"] for event in data["webhook_events"]] == [
        "hub_alice"
    ]
    assert data["accounts_snapshot"]["payload"]["accounts"][0]["company"]["name"] == "Hulu"
    assert [bill["company_name"] for bill in data["bills"]] == ["Hulu"]
    assert b"hub_bob" not in content
    assert b"bob@example.com" not in content
    # Compact: no indentation for the browser to wait on.
    assert b"\n" not in content


def test_the_download_shows_only_the_last_four_digits_of_account_numbers(alice_client, alices):
    _, content = download(alice_client)
    assert b"8498390016491919" not in content
    assert "••••1919" in content.decode()


def test_the_download_of_someone_who_never_connected_anything_is_their_account(alice_client):
    data = json.loads(download(alice_client)[1])
    assert data["account"]["email"] == "alice@example.com"
    assert data["profile"] is None


def test_deletion_with_the_wrong_password_deletes_nothing(alice_client, alice, alices, atomic):
    response = alice_client.post(reverse("paylink:account-delete"), {"password": "guess"})
    assert response.status_code == 400
    assert b"That is not your password." in response.content
    assert User.objects.filter(pk=alice.pk).exists()
    atomic.user_end_monitoring.assert_not_called()


def test_deletion_ends_monitoring_then_deletes_everything_of_the_person_only(
    alice_client, alice, alices, bobs, atomic
):
    response = alice_client.post(reverse("paylink:account-delete"), {"password": "alice-pass-1234"})
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    atomic.user_end_monitoring.assert_called_once_with(identifier="hub_alice")
    assert not User.objects.filter(pk=alice.pk).exists()
    assert not Profile.objects.filter(identifier="hub_alice").exists()
    assert not Task.objects.filter(atomic_id="task-hub_alice").exists()
    assert not WebhookEvent.objects.filter(identifier="hub_alice").exists()
    assert AccountSnapshot.objects.count() == SdkEvent.objects.count() == 1
    # bob's records are untouched.
    assert Profile.objects.filter(identifier="hub_bob").exists()
    assert WebhookEvent.objects.filter(identifier="hub_bob").count() == 1
    # And the deleted person is signed out.
    assert alice_client.get(reverse("paylink:dashboard")).status_code == 302


def _task_result(path: str, argument: int, status: str = TaskResultStatus.SUCCESSFUL):
    return DBTaskResult.objects.create(
        task_path=path,
        args_kwargs={"args": [argument], "kwargs": {}},
        backend_name="default",
        run_after=get_date_max(),
        status=status,
    )


def test_deletion_removes_sessions_task_results_and_cached_fragments_at_once(
    alice_client, alice, alices, bobs, bob, atomic
):
    # Alice is signed in on two more devices; bob on one.
    for _ in range(2):
        Client().force_login(alice)
    bobs_browser = Client()
    bobs_browser.force_login(bob)
    alices_task = Task.objects.get(profile=alices)
    bobs_task = Task.objects.get(profile=bobs)
    alices_event = WebhookEvent.objects.get(identifier="hub_alice")
    hers = [
        _task_result("paylink.tasks.accounts_sync", alices.pk),
        _task_result("paylink.tasks.reconcile_profile_tasks", alices.pk, TaskResultStatus.READY),
        _task_result("paylink.tasks.task_status_refresh", alices_task.pk),
        _task_result("paylink.tasks.reconcile_task_check", alices_task.pk, TaskResultStatus.FAILED),
        _task_result("paylink.tasks.webhook_event_process", alices_event.pk),
    ]
    running = _task_result("paylink.tasks.accounts_sync", alices.pk, TaskResultStatus.RUNNING)
    his = [
        _task_result("paylink.tasks.accounts_sync", bobs.pk),
        _task_result("paylink.tasks.task_status_refresh", bobs_task.pk),
    ]
    # What the shared cache holds of each: rendered fragments and task rows.
    cache.set(f"paylink:dashboard:{alices.pk}:1:en:2026-12-06:regions:1.1.1:", "<p>hers</p>")
    cache.set(f"paylink:dashboard:{alices.pk}:2:es:2026-12-06:bills:2:", "<p>hers</p>")
    cache.set(f"paylink:dashboard:{bobs.pk}:1:en:2026-12-06:regions:1.1.1:", "<p>his</p>")
    cache.set(task_cache_key(atomic_id=alices_task.atomic_id), alices_task)
    cache.set(task_cache_key(atomic_id=bobs_task.atomic_id), bobs_task)
    assert Session.objects.count() == 4

    response = alice_client.post(reverse("paylink:account-delete"), {"password": "alice-pass-1234"})

    assert response.status_code == 302
    [session] = Session.objects.all()
    assert session.get_decoded()["_auth_user_id"] == str(bob.pk)
    assert bobs_browser.get(reverse("paylink:dashboard")).status_code == 200
    remaining = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert remaining == {running.pk, *(row.pk for row in his)}
    assert not any(row.pk in remaining for row in hers)
    assert cache.get(f"paylink:dashboard:{alices.pk}:1:en:2026-12-06:regions:1.1.1:") is None
    assert cache.get(f"paylink:dashboard:{alices.pk}:2:es:2026-12-06:bills:2:") is None
    assert cache.get(task_cache_key(atomic_id=alices_task.atomic_id)) is None
    assert cache.get(f"paylink:dashboard:{bobs.pk}:1:en:2026-12-06:regions:1.1.1:") == "<p>his</p>"
    assert cache.get(task_cache_key(atomic_id=bobs_task.atomic_id)) is not None


@pytest.mark.parametrize(
    "backend",
    [
        {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "prefix-test"},
        {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "prefix_test"},
    ],
)
def test_deleting_by_prefix_takes_only_the_keys_under_it(db, backend):
    with override_settings(CACHES={"default": backend}):
        if backend["BACKEND"].endswith("DatabaseCache"):
            call_command("createcachetable", verbosity=0)
        store = caches["default"]
        store.set_many({"paylink:dashboard:1:a": 1, "paylink:dashboard:1:b": 2})
        store.set_many({"paylink:dashboard:12:a": 3, "paylink:dashboard:1_x": 4})
        assert cache_delete_prefix("paylink:dashboard:1:") == 2
        assert store.get_many(["paylink:dashboard:12:a", "paylink:dashboard:1_x"]) == {
            "paylink:dashboard:12:a": 3,
            "paylink:dashboard:1_x": 4,
        }
        assert store.get("paylink:dashboard:1:a") is None


def test_deletion_waits_for_atomic_and_keeps_everything_when_it_is_down(
    alice_client, alice, alices, atomic
):
    atomic.user_end_monitoring.side_effect = AtomicError("Atomic answered 503.", status=503)
    response = alice_client.post(reverse("paylink:account-delete"), {"password": "alice-pass-1234"})
    assert response.status_code == 200  # the form again, with the sentence; never a 5xx
    assert b"nothing was deleted" in response.content
    assert User.objects.filter(pk=alice.pk).exists()
    assert WebhookEvent.objects.filter(identifier="hub_alice").exists()


def test_deletion_of_someone_atomic_never_heard_of_goes_ahead(alice_client, alice, alices, atomic):
    atomic.user_end_monitoring.side_effect = AtomicError("Atomic answered 404.", status=404)
    alice_client.post(reverse("paylink:account-delete"), {"password": "alice-pass-1234"})
    assert not User.objects.filter(pk=alice.pk).exists()


@pytest.mark.parametrize("status", [400, 409, 422])
def test_a_refusal_from_end_monitoring_is_recorded_and_the_deletion_goes_on(
    alice_client, alice, alices, atomic, caplog, status
):
    # Atomic documents end-monitoring for payroll's continuous access: a PayLink-only user may
    # get a 4xx that no retry can change, and it must not keep the person from leaving.
    atomic.user_end_monitoring.side_effect = AtomicError(
        f"Atomic answered {status} to PUT /user/hub_alice/end-monitoring: not monitored.",
        status=status,
        code=status,
    )
    with caplog.at_level(logging.WARNING, logger="paylink.services.account_deletion"):
        response = alice_client.post(
            reverse("paylink:account-delete"), {"password": "alice-pass-1234"}
        )
    assert response.status_code == 302
    assert not User.objects.filter(pk=alice.pk).exists()
    assert not WebhookEvent.objects.filter(identifier="hub_alice").exists()
    [record] = [r for r in caplog.records if "end-monitoring" in r.getMessage()]
    assert f"refused with {status}" in record.getMessage()
    assert "deleting anyway" in record.getMessage()


@pytest.mark.parametrize(
    "error",
    [
        AtomicError("Atomic answered 401.", status=401),
        AtomicError("Atomic answered 403.", status=403),
        AtomicError("Atomic answered 429.", status=429, retryable=True),
        AtomicError("Atomic answered 500.", status=500, retryable=True),
        AtomicError("Atomic did not answer in time.", retryable=True),
    ],
    ids=["401", "403", "429", "500", "timeout"],
)
def test_deletion_keeps_everything_when_atomic_is_down_or_refuses_our_credentials(
    alice_client, alice, alices, atomic, error
):
    atomic.user_end_monitoring.side_effect = error
    response = alice_client.post(reverse("paylink:account-delete"), {"password": "alice-pass-1234"})
    assert response.status_code == 200
    assert b"nothing was deleted" in response.content
    assert User.objects.filter(pk=alice.pk).exists()


def test_the_password_check_on_deletion_is_behind_the_sign_in_throttle(
    alice_client, alice, alices, atomic
):
    for _ in range(5):
        response = alice_client.post(reverse("paylink:account-delete"), {"password": "guess"})
        assert response.status_code == 400
    # The sixth guess is refused before the password is checked, even the right one.
    response = alice_client.post(reverse("paylink:account-delete"), {"password": "alice-pass-1234"})
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert b"Too many failed sign-in attempts. Try again in 15 minutes." in response.content
    assert User.objects.filter(pk=alice.pk).exists()
    atomic.user_end_monitoring.assert_not_called()


def test_deletion_needs_a_post(alice_client, alice):
    assert alice_client.get(reverse("paylink:account-delete")).status_code == 405
    assert User.objects.filter(pk=alice.pk).exists()


def test_staff_delete_an_account_from_the_admin(client, alices, bobs, atomic):
    staff = User.objects.create_superuser("sam", password="sam-pass-1234")
    staff_login_with_code(client, staff)
    response = client.post(
        reverse("admin:paylink_profile_changelist"),
        {"action": "delete_accounts", "_selected_action": [str(alices.pk)]},
        follow=True,
    )
    assert "Delete accounts: 1 succeeded." in [str(m) for m in response.context["messages"]]
    atomic.user_end_monitoring.assert_called_once_with(identifier="hub_alice")
    assert not User.objects.filter(username="alice").exists()
    assert not WebhookEvent.objects.filter(identifier="hub_alice").exists()
    assert User.objects.filter(username="bob").exists()


@pytest.mark.parametrize(
    "account",
    [
        {"billing": {"accountNumber": "8498390016491919", "amount": 1}},
        {"billing": {"ACCOUNT_NUMBER": 12345678, "routingNumber": "021000021"}},
        {"policyNumber": None, "note": 'a "phoneNumber": "5551234567" in text', "x": ""},
        {"cardNumber": {"nested": "4111111111111111"}},
        {'odd"keyNumber': "99990000"},
    ],
)
def test_the_streamed_masking_is_the_same_as_the_reference_one(account):
    from paylink.atomic_values import account_numbers_masked
    from paylink.selectors.account_data import _masked_text

    for text in (json.dumps(account), json.dumps([account, account], indent=2)):
        assert json.loads(_masked_text(text)) == account_numbers_masked(json.loads(text))


def test_the_accounts_part_is_worked_out_once_a_version_and_follows_every_sync(
    alice_client, alice_profile
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from paylink.models import AccountsDownload
    from paylink.services.accounts import accounts_store

    accounts_store(profile=alice_profile, payload=HULU)
    first = json.loads(download(alice_client)[1])
    assert AccountsDownload.objects.get().version == 1
    with CaptureQueriesContext(connection) as queries:
        again = json.loads(download(alice_client)[1])
    # Sent as kept: neither the payload nor a bill row is read again.
    assert not [
        q
        for q in queries.captured_queries
        if "paylink_bill" in q["sql"] or '"paylink_accountsnapshot"."payload"' in q["sql"]
    ]
    assert again == first

    changed = json.loads(json.dumps(HULU))
    changed["accounts"][0]["account"]["billing"]["amount"] = 31.5
    accounts_store(profile=alice_profile, payload=changed)
    after = json.loads(download(alice_client)[1])
    assert (
        after["accounts_snapshot"]["payload"]["accounts"][0]["account"]["billing"]["amount"] == 31.5
    )
    assert [bill["amount"] for bill in after["bills"]] == ["31.50"]
    assert AccountsDownload.objects.get().version == 2


@pytest.mark.parametrize("fixture", ["accounts/messy", "accounts/apple_bills", "accounts/hulu"])
def test_the_download_holds_the_masked_payload_and_every_bill_as_the_rows_read(
    alice_client, alice_profile, fixture
):
    from django.core.serializers.json import DjangoJSONEncoder

    from paylink.atomic_values import account_numbers_masked
    from paylink.models import Bill
    from paylink.selectors.account_data import _BILL_FIELDS
    from paylink.services.accounts import accounts_store

    payload = atomic_json(fixture)
    payload["accountNumber"] = "1234567890"  # a number outside the accounts is masked too
    accounts_store(profile=alice_profile, payload=payload)
    for _ in range(2):  # worked out, then as kept
        data = json.loads(download(alice_client)[1])
        assert data["accounts_snapshot"]["payload"] == account_numbers_masked(payload)
        rows = Bill.objects.order_by("account__position", "position").values(*_BILL_FIELDS)
        assert data["bills"] == json.loads(json.dumps(list(rows), cls=DjangoJSONEncoder))


def test_a_client_that_takes_gzip_gets_the_same_download_compressed(alice_client, alices, bobs):
    import gzip

    plain = download(alice_client)[1]
    for header in ("gzip, deflate", "gzip, deflate"):  # worked out, then as kept
        response = alice_client.get(
            reverse("paylink:account-export"), headers={"Accept-Encoding": header}
        )
        assert response.status_code == 200
        assert response["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response["Vary"]
        assert response["Content-Disposition"] == 'attachment; filename="payments-hub-data.json"'
        assert len(response.content) < len(plain)
        assert gzip.decompress(response.content) == plain
    assert b"hub_bob" not in gzip.decompress(response.content)


def test_the_kept_accounts_part_is_sent_as_kept_without_decoding_it(alice_client, alice_profile):
    import gzip

    from paylink.models import AccountsDownload
    from paylink.services.accounts import accounts_store

    accounts_store(profile=alice_profile, payload=HULU)
    plain = download(alice_client)[1]
    kept = bytes(AccountsDownload.objects.get().deflated)
    response = alice_client.get(
        reverse("paylink:account-export"), headers={"Accept-Encoding": "gzip"}
    )
    # The kept bytes, as they are, inside the body; the whole still reads as the download.
    assert kept in response.content
    assert gzip.decompress(response.content) == plain
    assert b"8498390016491919" not in plain


def test_a_client_that_refuses_gzip_gets_the_download_as_text(alice_client, alices):
    response = alice_client.get(
        reverse("paylink:account-export"), headers={"Accept-Encoding": "gzip;q=0, identity"}
    )
    assert not response.has_header("Content-Encoding")
    assert "Accept-Encoding" in response["Vary"]
    assert json.loads(b"".join(response.streaming_content))["profile"]["identifier"] == "hub_alice"
