"""The operations page: the last 24 hours at a glance, each figure linking to its rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from paylink.admin_operations import duration_text
from paylink.models import AccountSnapshot, OperationTally, Task, WebhookEvent, WebhookState
from paylink.selectors.operations import operations_day, webhook_lag_since
from tests.paylink.conftest import staff_login_with_code

pytestmark = pytest.mark.django_db
PAGE = "/admin/operations/"


@pytest.fixture
def staff(client):
    return staff_login_with_code(client, User.objects.create_superuser("sam", password="x-1234-y"))


@pytest.fixture
def day(alice_profile, bob_profile):
    now = timezone.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    for n, lag in enumerate([1, 2, 3, 4, 100]):
        WebhookEvent.objects.create(
            ce_id=f"ce-{n}",
            body_sha256=f"{n}",
            state=WebhookState.PROCESSED,
            event_time=now - timedelta(seconds=lag + 60),
            processed_at=now - timedelta(seconds=60),
        )
    # Processed two days ago: outside the window.
    WebhookEvent.objects.create(
        ce_id="ce-old",
        body_sha256="old",
        state=WebhookState.PROCESSED,
        event_time=now - timedelta(days=2, seconds=900),
        processed_at=now - timedelta(days=2),
    )
    for name, outcome, count in [
        ("accounts_get", "ok", 90),
        ("accounts_get", "server_error", 10),
        ("task_status_get", "ok", 50),
        ("task_status_get", "no_answer", 25),
    ]:
        OperationTally.objects.create(
            hour=hour, kind="atomic", name=name, outcome=outcome, count=count, seconds=count * 0.2
        )
    OperationTally.objects.create(
        hour=hour - timedelta(days=3),
        kind="atomic",
        name="accounts_get",
        outcome="server_error",
        count=999,
    )
    OperationTally.objects.create(hour=hour, kind="sync", name="accounts", outcome="ok", count=7)
    OperationTally.objects.create(
        hour=hour, kind="sync", name="accounts", outcome="failed", count=3
    )
    AccountSnapshot.objects.create(
        profile=bob_profile, last_error="Atomic answered 503.", last_error_at=now
    )
    AccountSnapshot.objects.create(profile=alice_profile)
    for n, reason in enumerate(["bad-credentials", "bad-credentials", "account-lockout"]):
        Task.objects.create(
            profile=alice_profile, atomic_id=f"f{n}", status="failed", fail_reason=reason
        )
    return now


def test_the_day_is_read_from_the_rows_of_the_last_24_hours(day):
    figures = operations_day(now=day)
    assert figures.webhook_lag.processed == 5
    assert figures.webhook_lag.p50_seconds == 3
    assert figures.webhook_lag.p99_seconds == 100
    task_status, accounts = figures.atomic
    assert (task_status.endpoint, task_status.calls, task_status.errors) == (
        "task_status_get",
        75,
        25,
    )
    assert round(task_status.error_percent, 1) == 33.3
    assert (accounts.calls, accounts.errors, round(accounts.mean_ms)) == (100, 10, 200)
    assert (figures.syncs.runs, figures.syncs.failed, figures.syncs.people_count) == (10, 3, 1)
    assert [person[1] for person in figures.syncs.people] == ["bob"]
    assert figures.fail_reasons == [("bad-credentials", 2), ("account-lockout", 1)]


def test_no_processed_webhook_means_no_lag_figure(db):
    lag = webhook_lag_since(timezone.now() - timedelta(hours=24))
    assert (lag.processed, lag.p50_seconds, lag.p99_seconds) == (0, None, None)


def test_staff_see_every_figure_and_each_link_opens_its_rows(staff, day):
    response = staff.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("task_status_get", "33.3", "bad-credentials", "bob", "3 s", "2 min"):
        assert text in page
    context = response.context
    links = [
        context["lag_link"],
        context["unprocessed_link"],
        context["syncs_link"],
        context["people_link"],
    ]
    links += [
        item["link"] for item in context["atomic"] + context["fail_reasons"] + context["people"]
    ]
    for link in links:
        answer = staff.get(link)
        assert answer.status_code == 200, link
        assert "?e=1" not in answer.get("Location", "")
    tasks = staff.get(context["fail_reasons"][0]["link"])
    assert (
        list(tasks.context["cl"].queryset.values_list("fail_reason", flat=True))
        == ["bad-credentials"] * 2
    )
    endpoint = staff.get(context["atomic"][0]["link"])
    assert {t.name for t in endpoint.context["cl"].queryset} == {"task_status_get"}


def test_the_index_lists_the_page_and_spanish_staff_read_it_in_spanish(staff, day):
    assert PAGE in staff.get("/admin/").content.decode()
    staff.cookies.load({"django_language": "es"})
    page = staff.get(PAGE, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Llamadas a Atomic por punto de acceso" in page


def test_staff_without_the_permission_and_customers_cannot_open_it(client, alice, day):
    clerk = User.objects.create_user("clerk", password="x-1234-y", is_staff=True)
    staff_login_with_code(client, clerk)
    assert client.get(PAGE).status_code == 403
    assert PAGE not in client.get("/admin/").content.decode()
    clerk.user_permissions.add(Permission.objects.get(codename="view_operationtally"))
    assert client.get(PAGE).status_code == 200
    client.force_login(alice)
    assert client.get(PAGE).status_code == 302


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (0.25, "250 ms"),
        (4.25, "4.2 s"),
        (3.0, "3 s"),
        (720, "12 min"),
        (12600, "3.5 h"),
    ],
)
def test_durations_read_at_a_glance(seconds, text):
    assert duration_text(seconds) == text
