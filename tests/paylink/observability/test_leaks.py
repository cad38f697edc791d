"""The hostile-input suite's requests, with secrets planted in them and in Atomic's answers:
no log line (JSON or plain) and no error report sent to Sentry holds a secret, a token or a
whole account number.

The requests are the hostile suite's own (every route, method and persona; its generated
hostile requests for each of the host's routes), each also carrying the metrics token as a
bearer token, the API secret in a header, a public token and an account number in the query and
the body. Atomic's stand-in echoes secrets back in its errors (the sync job the sweep leads to
logs them), and the dashboard fails outright with such a message, so error reports (an
exception with its frames' variables, and Django's error line) are produced too.
"""

from __future__ import annotations

import json
from unittest import mock

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from paylink.client import AtomicError
from paylink.models import Task
from paylink.tasks import accounts_sync, task_status_refresh
from tests.paylink import test_hostile_input
from tests.paylink.observability.capture import log_lines
from tests.paylink.observability.sentry_stand_in import sentry_to_stand_in
from tests.paylink.test_hostile_input import (
    ADMIN_ROUTES,
    LIMITS,
    OWN_ROUTES,
    PERSONAS,
    _client,
    _path,
    hostile_requests,
)

pytestmark = pytest.mark.django_db
# The hostile suite's people and records, as a fixture here too.
world = test_hostile_input.world

API_SECRET = "planted-api-secret-5f2c"
API_KEY = "planted-api-key-8d1e"
METRICS_TOKEN = "planted-metrics-token-77aa"
PUBLIC_TOKEN = "planted-public-token-0b9c"
PASSWORD = "planted-password-c4d3"
ACCOUNT = "9876543210123456"
PLANTED = (API_SECRET, API_KEY, METRICS_TOKEN, PUBLIC_TOKEN, PASSWORD, ACCOUNT)
QUERY = f"publicToken={PUBLIC_TOKEN}&accountNumber={ACCOUNT}&api_key={API_KEY}"
HEADERS = {"Authorization": f"Bearer {METRICS_TOKEN}", "X-Api-Secret": API_SECRET}


def _body(extra: bytes) -> bytes:
    planted = {
        "accountNumber": ACCOUNT,
        "password": PASSWORD,
        "publicToken": PUBLIC_TOKEN,
        "note": f"pay {ACCOUNT} with key {API_KEY}",
        "hostile": extra.decode("utf-8", errors="replace")[:2000],
    }
    return json.dumps(planted).encode()


@pytest.fixture
def leaky_atomic(settings):
    settings.ATOMIC_API_SECRET = API_SECRET
    settings.ATOMIC_API_KEY = API_KEY
    settings.PAYLINK_METRICS_TOKEN = METRICS_TOKEN
    echo = f"Atomic answered 400: account {ACCOUNT}, token {PUBLIC_TOKEN}, secret {API_SECRET}"
    with mock.patch("paylink.client.atomic_client") as factory:
        client = factory.return_value
        client.access_token_create.return_value = PUBLIC_TOKEN
        client.accounts_get.side_effect = AtomicError(echo, status=400)
        client.user_update.side_effect = AtomicError(echo, status=400)
        client.task_status_get.side_effect = AtomicError(echo, status=400)
        # An unforeseen failure: a 500, logged and reported with the request and its frames.
        with mock.patch(
            "paylink.views.dashboard.snapshot_for_user", side_effect=RuntimeError(echo)
        ):
            yield client


def _send(world, *, persona, method, path, query, body, headers):
    client = _client(world, persona, csrf=False)
    url = f"{path}?{query}" if query else path
    return client.generic(method, url, body, content_type="application/json", headers=headers)


def _assert_clean(text: str) -> None:
    for planted in PLANTED:
        assert planted not in text, (
            f"{planted!r} leaked: ...{text[text.find(planted) - 300 :][:600]}"
        )


# One example, no shrinking: the sweep is the costly part, and a leak is plain from its text.
@settings(LIMITS, max_examples=1, phases=[Phase.generate])
@given(data=st.data())
def test_no_log_line_or_error_report_from_hostile_input_holds_a_secret_or_account_number(
    world, leaky_atomic, data
):
    statuses = []
    with sentry_to_stand_in() as sentry, log_lines() as lines:
        # The fixed sweep: every host route and a sample of the admin's (Django's own views, one
        # request log line like any other), GET and POST, as each persona.
        for route in OWN_ROUTES + ADMIN_ROUTES[::8]:
            for method in ("GET", "POST"):
                for persona in PERSONAS:
                    response = _send(
                        world,
                        persona=persona,
                        method=method,
                        path=_path(route, world, {}),
                        query=QUERY,
                        body=_body(b'{"a": [[[["\\u0000'),
                        headers=HEADERS,
                    )
                    statuses.append(response.status_code)
        # Generated hostile requests, one per host route, secrets added.
        for route in OWN_ROUTES:
            hostile = data.draw(hostile_requests)
            values = world.ids["bob"] if hostile["ids_of"] == "bob" else world.ids["alice"]
            query = f"{hostile['query']}&{QUERY}" if hostile["query"] else QUERY
            response = _send(
                world,
                persona=hostile["persona"],
                method=hostile["method"],
                path=_path(route, world, values),
                query=query,
                body=_body(hostile["body"][0]),
                headers={**HEADERS, **({"hx-request": "true"} if hostile["hx"] else {})},
            )
            statuses.append(response.status_code)
        # The jobs those requests lead to, as a worker runs them: Atomic's echo is logged.
        accounts_sync.call(world.alice.paylink_profile.pk)
        task_status_refresh.call(Task.objects.get(atomic_id=world.ids["alice"]["task_id"]).pk)
    assert 500 in statuses  # the dashboard's failure: so error reports were made
    assert len(lines.records()) >= len(statuses)  # one line per request at least
    _assert_clean(lines.text())
    assert "RuntimeError" in sentry.text(), "no error report reached the stand-in"
    _assert_clean(sentry.text())


@given(
    st.text(alphabet=st.sampled_from("0123456789 -.:=\"'abcdefkenotsrpwyBEARTOKNS_"), max_size=60)
)
@settings(max_examples=300, phases=[Phase.generate])
def test_text_the_quick_check_lets_through_is_text_the_patterns_would_leave(text):
    from paylink.observability import scrub

    if not scrub._MAYBE_SECRET.search(text):
        assert scrub._INLINE_SECRET.sub("", text) == text
        assert scrub._ACCOUNT_NUMBER.sub("", text) == text
