from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from paylink.client import AtomicError
from paylink.models import Task
from paylink.services.profiles import profile_for_user

pytestmark = pytest.mark.django_db


def _config(html: str) -> dict:
    match = re.search(
        r'<script id="paylink-transact-config" type="application/json">(.*?)</script>',
        html,
        re.S,
    )
    assert match, "the launch config is missing"
    return json.loads(match.group(1))


def test_the_hub_page_has_a_real_launch_button_and_a_no_script_note(alice_client):
    html = alice_client.get("/hub/").content.decode()
    assert re.search(r"<button[^>]*data-transact-launch[^>]*>Connect an account</button>", html)
    assert "<noscript>" in html
    assert "needs JavaScript" in html


def test_the_launch_config_is_for_pay_link_with_the_configured_apps(alice_client, settings):
    settings.PAYLINK_HUB_APPS = ["pay-now", "expenses"]
    launch = _config(alice_client.get("/hub/").content.decode())
    assert launch["config"]["scope"] == "pay-link"
    assert launch["config"]["tasks"] == [{"operation": "manage", "apps": ["pay-now", "expenses"]}]
    assert launch["config"]["language"] == "en"
    assert launch["config"]["theme"]["brandColor"] == "#0b5cad"
    assert launch["config"]["deferredPaymentMethodStrategy"] == "api"
    assert "publicToken" not in launch["config"]
    assert launch["tokenUrl"] == "/hub/token/"
    assert launch["eventsUrl"] == "/hub/events/"


def test_the_launch_config_speaks_spanish_to_spanish_readers(alice_client):
    response = alice_client.get("/hub/", headers={"accept-language": "es"})
    assert _config(response.content.decode())["config"]["language"] == "es"


def test_environment_override_is_sent_only_when_set(alice_client, settings):
    settings.ATOMIC_TRANSACT_ORIGIN = "http://127.0.0.1:8001"
    assert _config(alice_client.get("/hub/").content.decode())["environmentOverride"] == (
        "http://127.0.0.1:8001"
    )
    settings.ATOMIC_TRANSACT_ORIGIN = ""
    assert "environmentOverride" not in _config(alice_client.get("/hub/").content.decode())


def test_every_script_carries_the_nonce_and_the_sdk_integrity_only_when_set(alice_client, settings):
    settings.ATOMIC_TRANSACT_SDK_URL = "https://cdn.example.com/transact.js"
    settings.ATOMIC_TRANSACT_SDK_INTEGRITY = ""
    response = alice_client.get("/hub/")
    html = response.content.decode()
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script(?![^>]*application/json)[^>]*>", html)
    assert len(scripts) >= 3
    for tag in scripts:
        assert f'nonce="{nonce}"' in tag, tag
    sdk_tag = next(tag for tag in scripts if "cdn.example.com" in tag)
    assert "integrity" not in sdk_tag
    assert not re.search(r"\son[a-z]+=", html), "inline event handlers are not allowed"

    settings.ATOMIC_TRANSACT_SDK_INTEGRITY = "sha384-abc"
    html = alice_client.get("/hub/").content.decode()
    assert 'integrity="sha384-abc" crossorigin="anonymous"' in html


def test_no_api_key_or_secret_reaches_the_page(alice_client, settings):
    settings.ATOMIC_API_KEY = "key-must-stay-home"
    settings.ATOMIC_API_SECRET = "secret-must-stay-home"
    html = alice_client.get("/hub/").content.decode()
    assert "key-must-stay-home" not in html
    assert "secret-must-stay-home" not in html


def test_the_hub_lists_alices_recent_tasks_and_not_bobs(alice_client, alice, bob):
    Task.objects.create(
        profile=profile_for_user(user=alice), atomic_id="t-alice", company_name="Hulu"
    )
    Task.objects.create(
        profile=profile_for_user(user=bob), atomic_id="t-bob", company_name="Netflix"
    )
    html = alice_client.get("/hub/").content.decode()
    assert "/hub/tasks/t-alice/" in html
    assert "Hulu" in html
    assert "t-bob" not in html
    assert "Netflix" not in html


def test_the_recent_list_refreshes_itself_when_a_task_finishes(alice_client, alice):
    html = alice_client.get("/hub/").content.decode()
    assert 'hx-trigger="paylink:task-finished from:body"' in html
    Task.objects.create(profile=profile_for_user(user=alice), atomic_id="t-new", status="completed")
    partial = alice_client.get("/hub/", headers={"hx-request": "true"}).content.decode()
    assert "<html" not in partial
    assert partial.strip().startswith('<section class="hub__recent card" id="hub-recent"')
    assert "/hub/tasks/t-new/" in partial


def test_the_token_endpoint_returns_only_the_public_token(alice_client, alice, atomic, settings):
    settings.PAYLINK_TOKEN_LIFETIME = 3600
    atomic.access_token_create.return_value = "test-public-token"
    response = alice_client.post("/hub/token/")
    assert response.status_code == 200
    assert response.json() == {"publicToken": "test-public-token"}
    assert "no-store" in response["Cache-Control"]
    atomic.access_token_create.assert_called_once_with(
        identifier=profile_for_user(user=alice).identifier, token_lifetime=3600
    )


def test_a_token_marks_when_transact_was_opened_so_reconcile_reads_the_task_list(
    alice_client, alice, atomic
):
    from paylink.services.reconcile import reconcile_open_profiles

    atomic.access_token_create.return_value = "test-public-token"
    assert list(reconcile_open_profiles()) == []

    alice_client.post("/hub/token/")

    assert profile_for_user(user=alice).transact_opened_at is not None
    assert [p.user for p in reconcile_open_profiles()] == [alice]


def test_the_token_endpoint_is_post_only(alice_client, atomic):
    assert alice_client.get("/hub/token/").status_code == 405
    atomic.access_token_create.assert_not_called()


def test_the_token_endpoint_enforces_csrf(alice, atomic):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post("/hub/token/").status_code == 403
    atomic.access_token_create.assert_not_called()

    strict.get("/hub/")
    token = strict.cookies["csrftoken"].value
    atomic.access_token_create.return_value = "test-public-token"
    response = strict.post("/hub/token/", headers={"x-csrftoken": token})
    assert response.status_code == 200


@pytest.mark.parametrize(("retryable", "status"), [(True, 503), (False, 502)])
def test_an_atomic_failure_is_a_json_error_not_a_500(alice_client, atomic, retryable, status):
    atomic.access_token_create.side_effect = AtomicError(
        "Atomic answered 503 to POST /access-token.",
        status=503 if retryable else 401,
        retryable=retryable,
    )
    response = alice_client.post("/hub/token/")
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error", "retryable"}
    assert body["retryable"] is retryable
    assert body["error"].startswith("We couldn't open the Payments Hub")
    # Atomic's own wording stays in the log: it can name paths and ids.
    assert "/access-token" not in body["error"]


def test_anonymous_visitors_are_sent_to_sign_in(client, atomic):
    response = client.post("/hub/token/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    atomic.access_token_create.assert_not_called()
