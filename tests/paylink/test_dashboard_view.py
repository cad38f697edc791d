"""The dashboard page: who sees what, escaping, masking, refresh and its polling region."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from paylink.models import AccountSnapshot, Profile
from paylink.selectors.dashboard import BILLS_PER_PAGE, CARDS_PER_PAGE, SUGGESTIONS_PER_PAGE
from tests.atomic_json import atomic_json


def snapshot_for(user: User, payload: dict, **fields) -> AccountSnapshot:
    profile, _ = Profile.objects.get_or_create(user=user)
    defaults = {"payload": payload, "version": 1, "fetched_at": timezone.now()}
    return AccountSnapshot.objects.create(profile=profile, **(defaults | fields))


def test_it_requires_login(db):
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_invites_a_first_connection_without_a_snapshot(alice_client):
    html = alice_client.get("/").content.decode()
    assert "Connect your first account" in html
    assert 'href="/hub/"' in html
    assert "data-transact-launch" in html
    assert "<h1>" in html and html.count("<h1") == 1


def test_it_invites_a_first_connection_with_zero_accounts(alice, alice_client):
    snapshot_for(alice, atomic_json("accounts/empty"))
    assert "Connect your first account" in alice_client.get("/").content.decode()


def test_it_shows_the_hulu_account_with_masked_numbers(alice, alice_client):
    snapshot_for(alice, atomic_json("accounts/hulu"))
    html = alice_client.get("/").content.decode()
    assert "Hulu" in html
    assert "•••• 1919" in html
    assert "8498390016491919" not in html
    assert "Mastercard" in html and "•••• 2345" in html
    assert "test@email.com" not in html and "t•••@email.com" in html
    assert "5558675309" not in html
    assert "Remove Disney Bundle" in html
    assert 'data-action-id="BASE64_ENCODED_ID"' in html
    assert 'data-task-target="#account-67376c5befe988922e8aabc4-task"' in html
    assert 'id="account-67376c5befe988922e8aabc4-task"' in html
    assert 'fill="#040405"' in html
    assert '<svg class="history-chart"' in html and "<title" in html


def test_actions_atomic_carries_out_by_itself_say_so_in_the_newer_account_shape(
    alice, alice_client
):
    snapshot_for(alice, atomic_json("accounts/newer"))
    html = alice_client.get("/").content.decode()
    buttons = re.findall(
        r"<button[^>]*data-action-id=\"(NEWER_[A-Z]+_ID)\"[^>]*>(.*?)</button>", html
    )
    done_for_you = {action_id for action_id, label in buttons if "done for you" in label}
    assert {action_id for action_id, _ in buttons} == {
        "NEWER_CHANGE_ID",
        "NEWER_CANCEL_ID",
        "NEWER_PAUSE_ID",
    }
    assert done_for_you == {"NEWER_CANCEL_ID", "NEWER_PAUSE_ID"}


def test_it_escapes_markup_from_atomic(alice, alice_client):
    snapshot_for(alice, atomic_json("accounts/messy"))
    html = alice_client.get("/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;Drop extras" in html
    assert "<img src=x" not in html
    assert "Stream&lt;b&gt;Co&lt;/b&gt;" in html
    assert "javascript:" not in html
    assert "red; background" not in html


def test_it_never_shows_a_full_account_number(alice, alice_client):
    snapshot_for(alice, atomic_json("accounts/messy"))
    html = alice_client.get("/").content.decode()
    assert "4111222233334444" not in html
    assert "•••• 4444" in html
    assert "12345678" not in html


def test_it_renders_unknown_values_plainly(alice, alice_client):
    snapshot_for(alice, atomic_json("accounts/messy"))
    html = alice_client.get("/").content.decode()
    assert "Hologram" in html
    assert "telepathic-savings" in html
    assert "Hibernating" in html
    assert "Teleport" in html
    assert "Unknown company" in html


def test_it_never_shows_another_users_snapshot(alice, bob, alice_client):
    snapshot_for(bob, atomic_json("accounts/hulu"))
    html = alice_client.get("/").content.decode()
    assert "Hulu" not in html
    assert "Connect your first account" in html


def test_it_shows_a_banner_and_keeps_old_data_when_the_last_sync_failed(alice, alice_client):
    fetched = timezone.now().replace(hour=13, minute=40) - timedelta(days=1)
    snapshot_for(
        alice,
        atomic_json("accounts/hulu"),
        fetched_at=fetched,
        last_error="Atomic is unreachable",
        last_error_at=fetched + timedelta(minutes=25),
    )
    html = alice_client.get("/").content.decode()
    assert "We couldn't reach your billers' data at 14:05." in html
    assert "Showing what we had from 13:40" in html
    assert "Hulu" in html
    assert "Atomic is unreachable" not in html


def test_it_shows_no_banner_when_a_success_followed_the_error(alice, alice_client):
    now = timezone.now()
    snapshot_for(
        alice,
        atomic_json("accounts/hulu"),
        fetched_at=now,
        last_error="boom",
        last_error_at=now - timedelta(hours=1),
    )
    assert "couldn't reach" not in alice_client.get("/").content.decode()


def test_it_shows_when_the_data_was_updated(alice, alice_client):
    snapshot_for(
        alice, atomic_json("accounts/hulu"), fetched_at=timezone.now() - timedelta(minutes=5)
    )
    assert "Updated <time" in alice_client.get("/").content.decode()
    assert "5\xa0minutes ago" in alice_client.get("/").content.decode()


def test_it_re_renders_when_the_version_changes(alice, alice_client):
    snapshot = snapshot_for(alice, atomic_json("accounts/hulu"))
    assert "Hulu" in alice_client.get("/").content.decode()
    snapshot.payload = atomic_json("accounts/messy")
    snapshot.version = 2
    snapshot.save()
    html = alice_client.get("/").content.decode()
    assert "Hulu" not in html and "Insurer" in html


def test_refresh_asks_for_a_sync_and_redirects_without_htmx(alice, alice_client):
    with mock.patch("paylink.services.accounts.accounts_sync_request") as sync:
        response = alice_client.post(reverse("paylink:dashboard-refresh"))
    assert response.status_code == 302 and response["Location"] == "/"
    sync.assert_called_once_with(profile=Profile.objects.get(user=alice))


def test_refresh_answers_htmx_with_a_polling_region(alice, alice_client):
    snapshot_for(alice, atomic_json("accounts/hulu"), version=4)
    with mock.patch("paylink.services.accounts.accounts_sync_request"):
        response = alice_client.post(
            reverse("paylink:dashboard-refresh"), headers={"HX-Request": "true"}
        )
    html = response.content.decode()
    assert 'id="dashboard-poll"' in html
    assert re.search(r'hx-get="/dashboard/poll/\?since=4&amp;after=\d+"', html)
    assert 'hx-trigger="load delay:2s"' in html


def test_the_refreshing_dashboard_asks_again_after_the_poll_setting(alice_client, settings):
    settings.PAYLINK_POLL_SECONDS = 0.25
    with mock.patch("paylink.services.accounts.accounts_sync_request"):
        response = alice_client.post(
            reverse("paylink:dashboard-refresh"), headers={"HX-Request": "true"}
        )
    assert 'hx-trigger="load delay:250ms"' in response.content.decode()


def test_refresh_requires_csrf(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    with mock.patch("paylink.services.accounts.accounts_sync_request") as sync:
        response = client.post(reverse("paylink:dashboard-refresh"))
    assert response.status_code == 403
    sync.assert_not_called()


def test_refresh_refuses_get(alice_client):
    assert alice_client.get(reverse("paylink:dashboard-refresh")).status_code == 405


def test_the_poll_keeps_polling_until_a_newer_version_lands(alice, alice_client):
    snapshot = snapshot_for(
        alice,
        atomic_json("accounts/hulu"),
        version=4,
        fetched_at=timezone.now() - timedelta(minutes=1),
    )
    after = int(timezone.now().timestamp() * 1000)
    url = f"/dashboard/poll/?since=4&after={after}"
    waiting = alice_client.get(url, headers={"HX-Request": "true"})
    assert waiting.status_code == 200
    assert 'id="dashboard-poll"' in waiting.content.decode()
    assert "HX-Retarget" not in waiting

    snapshot.version = 5
    snapshot.save()
    landed = alice_client.get(url, headers={"HX-Request": "true"})
    assert landed["HX-Retarget"] == "#dashboard-body"
    assert landed["HX-Reswap"] == "outerHTML"
    html = landed.content.decode()
    assert 'id="dashboard-body"' in html and "Hulu" in html
    assert "<html" not in html


def test_the_poll_stops_when_a_newer_error_lands(alice, alice_client):
    after = int(timezone.now().timestamp() * 1000)
    snapshot_for(
        alice,
        atomic_json("accounts/hulu"),
        version=4,
        fetched_at=timezone.now() - timedelta(hours=1),
        last_error="down",
        last_error_at=timezone.now() + timedelta(seconds=1),
    )
    landed = alice_client.get(
        f"/dashboard/poll/?since=4&after={after}", headers={"HX-Request": "true"}
    )
    assert landed["HX-Retarget"] == "#dashboard-body"
    assert "couldn't reach" in landed.content.decode()


@pytest.mark.parametrize("query", ["", "since=x&after=1", "since=²&after=1", "since=1&after=③"])
def test_bad_poll_parameters_are_a_clear_400(alice_client, query):
    response = alice_client.get(f"/dashboard/poll/?{query}", headers={"HX-Request": "true"})
    assert response.status_code == 400


def test_the_old_partial_switch_is_gone_and_the_page_is_the_page(alice_client):
    response = alice_client.get("/?partial=poll&since=1&after=1")
    assert response.status_code == 200
    assert "<html" in response.content.decode()


def test_the_poll_stops_when_a_sync_found_nothing_new(alice, alice_client):
    snapshot = snapshot_for(
        alice,
        atomic_json("accounts/hulu"),
        version=4,
        fetched_at=timezone.now() - timedelta(minutes=1),
    )
    after = int(timezone.now().timestamp() * 1000)
    snapshot.fetched_at = timezone.now() + timedelta(seconds=1)
    snapshot.save()
    landed = alice_client.get(
        f"/dashboard/poll/?since=4&after={after}", headers={"HX-Request": "true"}
    )
    assert landed["HX-Retarget"] == "#dashboard-body"


def test_the_dashboard_waits_for_a_sync_after_a_completed_task(alice, alice_client):
    snapshot_for(alice, atomic_json("accounts/hulu"), version=7)
    html = alice_client.get("/").content.decode()
    assert 'hx-trigger="paylink:task-completed from:body"' in html
    assert re.search(
        r'id="dashboard-watch"[^>]*hx-get="/dashboard/poll/\?since=7&amp;after=\d+"', html
    )


def many_accounts(user: User, count: int) -> AccountSnapshot:
    hulu = atomic_json("accounts/hulu")["accounts"][0]
    accounts = [
        dict(
            hulu, _id=f"acct{index:03d}", company=dict(hulu["company"], name=f"Biller {index:03d}")
        )
        for index in range(count)
    ]
    return snapshot_for(user, {"accounts": accounts})


def test_two_hundred_accounts_show_a_first_screenful_and_count_them_all(alice, alice_client):
    many_accounts(alice, 200)
    html = alice_client.get("/").content.decode()
    assert html.count('class="card account-card"') == CARDS_PER_PAGE == 6
    assert html.count('<tr class="bill ') == BILLS_PER_PAGE == 6
    assert html.count('<li class="suggestion">') == SUGGESTIONS_PER_PAGE == 3
    assert "<dd>200</dd>" in html
    # The summary still adds up every account, not just the ones shown.
    assert "$4,092.00" in html


def test_show_more_is_a_real_link_that_htmx_turns_into_appending(alice, alice_client):
    many_accounts(alice, 15)
    html = alice_client.get("/").content.decode()
    assert 'href="/?cards=2#accounts-title"' in html
    assert 'hx-get="/dashboard/accounts/?cards=2" hx-target="#cards-more-2"' in html
    assert "Show 6 more accounts" in html and "(9 not shown)" in html


def test_without_javascript_the_link_shows_the_next_page(alice, alice_client):
    many_accounts(alice, 15)
    html = alice_client.get("/?cards=3").content.decode()
    assert html.count('class="card account-card"') == 3
    assert "Biller 012" in html and "Biller 014" in html and "Biller 011" not in html
    assert 'href="/?cards=2#accounts-title"' in html  # back a page
    assert "more accounts" not in html


def test_htmx_gets_only_the_next_page_of_cards_and_the_next_link(alice, alice_client):
    many_accounts(alice, 15)
    response = alice_client.get("/dashboard/accounts/?cards=2", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "Accounts</h2>" not in html
    assert html.count('class="card account-card"') == 6
    assert "Biller 006" in html and "Biller 011" in html and "Biller 005" not in html
    assert 'id="cards-more-3"' in html and "Show 3 more accounts" in html
    assert "Earlier accounts" not in html


def test_htmx_gets_the_next_bills_as_table_rows(alice, alice_client):
    many_accounts(alice, 15)
    html = alice_client.get(
        "/dashboard/bills/?bills=3", headers={"HX-Request": "true"}
    ).content.decode()
    assert html.strip().startswith("<tr")
    assert html.count('<tr class="bill ') == 3
    assert "more bills" not in html


def test_htmx_gets_the_next_suggestions_as_list_items(alice, alice_client):
    many_accounts(alice, 2)
    html = alice_client.get(
        "/dashboard/suggestions/?suggestions=2", headers={"HX-Request": "true"}
    ).content.decode()
    assert html.count('<li class="suggestion">') == 1
    assert "more ways to save" not in html


def test_a_page_past_the_end_shows_the_last_one(alice, alice_client):
    many_accounts(alice, 15)
    html = alice_client.get("/?cards=99").content.decode()
    assert html.count('class="card account-card"') == 3  # the third page of six


def test_bob_cannot_page_through_alices_accounts(alice, bob):
    many_accounts(alice, 30)
    client = Client()
    client.force_login(bob)
    html = client.get(
        "/dashboard/accounts/?cards=2", headers={"HX-Request": "true"}
    ).content.decode()
    assert "Biller" not in html


def test_it_says_just_now_for_a_fresh_snapshot(alice, alice_client):
    snapshot_for(alice, atomic_json("accounts/hulu"), fetched_at=timezone.now())
    assert re.search(r"Updated <time[^>]*>just now</time>", alice_client.get("/").content.decode())


def test_named_bills_are_listed_and_their_actions_labelled_by_bill(alice, alice_client):
    snapshot_for(alice, atomic_json("accounts/apple_bills"), version=1)
    html = alice_client.get("/").content.decode()
    assert '<ul class="account-card__bills"' in html
    assert ">Cancel Apple TV+<" in html and ">Cancel NY Times<" in html
    assert ">Change NY Times<" in html
    assert html.count("Cancel plan") == 0
    spanish = alice_client.get("/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert ">Cancelar Apple TV+<" in spanish


def test_a_paused_plan_says_until_when_and_offers_resume(alice, alice_client):
    account = atomic_json("accounts/hulu")["accounts"][0]
    account["account"]["data"]["plans"][0]["status"] = "paused"
    account["account"]["data"]["plans"][0]["pendingChange"] = {
        "type": "status-update",
        "changes": {"status": "active"},
        "startDate": "2099-12-21T00:00:00Z",
    }
    account["actions"] = [{"type": "resume-plan", "id": "RESUME_ID"}]
    snapshot_for(alice, {"accounts": [account]}, version=1)
    html = alice_client.get("/").content.decode()
    assert "Paused until Dec 20" in html
    assert 'data-action-type="resume-plan"' in html and ">Resume<" in html
    assert 'class="bill bill--paused"' in html


def test_a_cancelled_plan_says_when_it_ends_and_is_not_counted_after(alice, alice_client):
    account = atomic_json("accounts/hulu")["accounts"][0]
    account["account"]["billing"]["dueDate"] = "2099-01-01T12:00:00Z"
    account["account"]["data"]["plans"][0]["status"] = "cancelled"
    account["account"]["data"]["plans"][0]["pendingChange"] = {
        "type": "cancellation",
        "changes": {"status": "cancelled"},
        "endDate": "2099-01-03T12:00:00Z",
    }
    snapshot_for(alice, {"accounts": [account]}, version=1)
    html = alice_client.get("/").content.decode()
    assert "Ends on Jan 3" in html
    assert 'class="bill bill--later"' in html
