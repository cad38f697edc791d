"""Hostile input to every URL the host routes: never a 5xx, a sentence in every refusal, and
nothing stored changes when a request is refused.

The URLs come from the URLconf (`tests.paylink.routes`), so an endpoint added later is walked
too. Each request goes out as anonymous, alice (a customer) or carol (staff), with or without
CSRF checks, with any method, and with garbage, huge or deeply nested bodies, NUL and odd
unicode, very long ids and query strings, and bob's ids in place of alice's. Bounded: a fixed
sweep of every route, `EXAMPLES_PER_ROUTE` generated requests for each of the host's own
routes and `ADMIN_EXAMPLES` over the admin's, about 1,400 requests and a few seconds in all.

`/webhooks/atomic/` is sent everything too and held to no 5xx and to never accepting an
unsigned request; its answers are counted (`WEBHOOK_ANSWERS`, printed with `-s`) rather than
held to "nothing stored changed", since it records what it refuses (headers, size, digest).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse
from django.test import Client
from django_tasks_db.models import DBTaskResult
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from paylink.models import AccountSnapshot, Profile, SdkEvent, Task, WebhookEvent
from paylink.services.profiles import profile_for_user
from paylink.services.webhooks import SIGNATURE_HEADER
from tests.paylink.routes import Route, host_routes
from tests.people import person_create

pytestmark = pytest.mark.django_db

# Generated requests: this many for each of the host's own routes, and this many spread over
# the admin's (Django's own code, also swept below).
EXAMPLES_PER_ROUTE = 8
ADMIN_EXAMPLES = 30
WEBHOOK = "/webhooks/atomic/"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PERSONAS = ("anonymous", "alice", "carol")
ROUTES = host_routes()
OWN_ROUTES = [route for route in ROUTES if not route.is_admin]
ADMIN_ROUTES = [route for route in ROUTES if route.is_admin]
# What the webhook endpoint answered, by status, for the report.
WEBHOOK_ANSWERS: Counter[int] = Counter()
SENT: Counter[str] = Counter()

# Characters that have broken hosts: NUL, lone surrogates, bidi and zero-width marks, path
# characters, quotes, markup, a character outside the BMP, and plain letters between them.
ODD = ["\x00", "\ud800", "\udfff", "\u202e", "\u200b", "\ufeff", "/", "..", "%", "'", '"', "<"]
ODD += ["\n", "\\", "é", "\U0001d518", "a", "Z", "0", "-", "_", " ", "?", "#", "&", "="]
odd_text = st.lists(st.sampled_from(ODD), max_size=40).map("".join)
long_text = st.integers(65, 6000).map(lambda n: "a" * n)


@dataclass
class World:
    """The people and records the requests aim at: alice's and bob's, side by side, and one
    browser per persona and CSRF mode, kept across requests (signing in is a costly write)."""

    alice: User
    bob: User
    carol: User
    ids: dict[str, dict[str, str]]
    clients: dict[tuple[str, bool], Client] = field(default_factory=dict)


def _quoted(value: str, safe: str = "") -> str:
    # A lone surrogate goes out as the bytes a raw client could send (%ED%A0%80): not UTF-8.
    return quote(value, safe=safe, errors="surrogatepass")


def _urlencode(pairs: dict[str, str]) -> str:
    return "&".join(f"{_quoted(key)}={_quoted(value)}" for key, value in pairs.items())


def _sentence(body: bytes) -> bool:
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        text = " ".join(str(value) for value in data.values())
    text = re.sub(r"<[^>]+>", " ", text)
    # A capital, some words, and a full stop, question or exclamation mark.
    return re.search(r"[A-Z][^.!?]*\w[^.!?]*[.!?]", text) is not None


_TABLES = [model._meta.db_table for model in (User, Profile, Task, SdkEvent, AccountSnapshot)]
_TABLES.append(DBTaskResult._meta.db_table)


def _stored() -> list[Any]:
    """Everything a request could wrongly change, row by row (raw SQL: this runs twice for
    every request, and the ORM would be most of the suite's time)."""
    rows = []
    with connection.cursor() as cursor:
        for table in _TABLES:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY 1")
            rows.append(cursor.fetchall())
    return rows


def _webhooks_stored() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {WebhookEvent._meta.db_table}")
        return cursor.fetchone()[0]


@pytest.fixture
def world(db) -> World:
    alice, bob = person_create("alice"), person_create("bob")
    carol = User.objects.create_superuser("carol", "carol@example.com", "carol-pass-1234")
    ids = {}
    for user in (alice, bob):
        profile = profile_for_user(user=user)
        task = Task.objects.create(profile=profile, atomic_id=f"task-{user.username}")
        snapshot = AccountSnapshot.objects.create(profile=profile, payload={"accounts": []})
        event = SdkEvent.objects.create(profile=profile, kind="close", payload={})
        ids[user.username] = {
            "task_id": task.atomic_id,
            "object_id": str(profile.pk),
            "snapshot": str(snapshot.pk),
            "event": str(event.pk),
            "id": str(user.pk),
        }
    return World(alice=alice, bob=bob, carol=carol, ids=ids)


@pytest.fixture(autouse=True, scope="module")
def _report(request: pytest.FixtureRequest) -> Iterator[None]:
    # For the record, in the terminal summary: how much was sent and what the webhook said.
    started = time.monotonic()
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and SENT:
        reporter.write_line(
            f"\nhostile input: {sum(SENT.values())} requests to {len(SENT)} routes in "
            f"{time.monotonic() - started:.1f} s; /webhooks/atomic/ answered "
            f"{dict(sorted(WEBHOOK_ANSWERS.items()))}"
        )


@pytest.fixture(autouse=True)
def _quiet_refusals() -> Iterator[None]:
    # Thousands of expected 4xx would each log a warning; a 5xx still logs as an error.
    loggers = [logging.getLogger(name) for name in ("django.request", "django.security")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def _client(world: World, persona: str, *, csrf: bool) -> Client:
    client = world.clients.get((persona, csrf))
    if client is None:
        client = Client(enforce_csrf_checks=csrf, raise_request_exception=False)
        world.clients[(persona, csrf)] = client
    # Signed in again whenever a request (a sign-out) ended the session.
    if persona != "anonymous" and "_auth_user_id" not in client.session:
        client.force_login(getattr(world, persona))
    return client


def _path(route: Route, world: World, values: dict[str, str]) -> str:
    defaults = {
        **world.ids["alice"],
        "uidb64": "MQ",
        "token": "set-password",
        "content_type_id": "1",
        "app_label": "paylink",
        "url": "nowhere/",
    }
    chosen = {
        name: _quoted(values.get(name, defaults.get(name, "x")), safe="/") for name in route.params
    }
    return route.url(chosen)


def _send(
    world: World,
    *,
    persona: str,
    csrf: bool,
    route: Route,
    method: str,
    values: dict[str, str],
    query: str,
    body: bytes,
    content_type: str,
    headers: dict[str, str],
) -> HttpResponse:
    """Sends one request and holds its answer to the rules; returns it for more checks."""
    client = _client(world, persona, csrf=csrf)
    path = _path(route, world, values)
    url = f"{path}?{query}" if query else path
    before, webhooks_before = _stored(), _webhooks_stored()
    response = None
    try:
        # A savepoint: a request that breaks the transaction (only the webhook does, on
        # PostgreSQL, while it is not hardened) is rolled back instead of failing every query
        # after it.
        with transaction.atomic():
            response = client.generic(method, url, body, content_type=content_type, headers=headers)
    except DatabaseError:
        pass
    assert response is not None
    SENT[route.pattern] += 1
    status = response.status_code
    what = f"{persona} {method} {url[:300]!r} ({len(body)} bytes) -> {status}"
    assert status < 500, what
    if route.pattern == WEBHOOK.lstrip("/"):
        # Nothing sent here is signed with the secret: it is refused, never accepted. A refusal
        # is itself recorded there (headers, size and digest, within a cap), so it is counted
        # rather than held to "nothing stored changed".
        WEBHOOK_ANSWERS[status] += 1
        assert not 200 <= status < 300, f"{what}: an unsigned webhook was accepted"
        return response
    if 400 <= status < 500:
        if method != "HEAD":
            assert _sentence(response.content), f"{what}: no sentence in {response.content[:300]!r}"
        assert _stored() == before, f"{what}: a refused request changed what is stored"
        assert _webhooks_stored() == webhooks_before, what
    return response


# --- Bodies -------------------------------------------------------------------------------------


def _nested(depth: int, opener: str) -> bytes:
    closer = "]" if opener == "[" else "}"
    return (opener * depth + "1" + closer * depth).encode()


def _nested_objects(depth: int) -> bytes:
    return ('{"a":' * depth + "1" + "}" * depth).encode()


def _storm(unit: bytes, count: int, closed: bool) -> bytes:
    body = (b'{"kind": "close", "payload": {"reason": "' + unit * count)[:16_000]
    return body + b'"}}' if closed else body


sdk_event = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["finish", "interaction", "data-request", "close", "x"]),
        "payload": st.fixed_dictionaries(
            {
                "taskId": st.one_of(
                    st.sampled_from(["task-bob", "task-alice", "../task-alice", "a/b"]),
                    odd_text,
                    long_text,
                ),
                "name": odd_text,
                "fields": st.lists(odd_text, max_size=3),
            }
        ),
        "launch": st.fixed_dictionaries(
            {
                "operation": st.sampled_from(["manage", "action", "\x00"]),
                "accountId": odd_text,
                "actionType": odd_text,
            }
        ),
    }
)
sdk_event_bodies = sdk_event.map(lambda event: (json.dumps(event).encode(), "application/json"))
json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), odd_text),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(odd_text, inner, max_size=4)
    ),
    max_leaves=20,
)
bodies = st.one_of(
    st.just((b"", "application/octet-stream")),
    st.binary(max_size=300).map(lambda raw: (raw, "application/octet-stream")),
    # ensure_ascii writes NUL and lone surrogates as \u escapes: what a hostile browser sends.
    json_value.map(lambda value: (json.dumps(value).encode(), "application/json")),
    st.tuples(st.integers(33, 20_000), st.sampled_from(["[", "{"])).map(
        lambda pair: (
            _nested(pair[0], pair[1]) if pair[1] == "[" else _nested_objects(pair[0]),
            "application/json",
        )
    ),
    st.integers(17_000, 400_000).map(
        lambda n: (b'{"kind": "close", "payload": {"x": "' + b"x" * n + b'"}}', "application/json")
    ),
    st.dictionaries(odd_text, st.one_of(odd_text, long_text), max_size=4).map(
        lambda form: (_urlencode(form).encode(), "application/x-www-form-urlencoded")
    ),
    # Bodies that once cost a regex quadratic time: runs of escapes, quote storms, unterminated
    # strings, up to the SDK event's 16 KiB.
    st.tuples(
        st.sampled_from([b'\\"', b'"', b"\\\\", b'"\\', b"\\u00e9", b'\\"[{']),
        st.integers(100, 8_000),
        st.booleans(),
    ).map(lambda storm: (_storm(*storm), "application/json")),
    # Numbers JSON has no room for: JavaScript's words and a float's overflow.
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1E+999"]).map(
        lambda number: (
            f'{{"kind": "interaction", "payload": {{"value": {number}}}}}'.encode(),
            "application/json",
        )
    ),
)


# --- The fixed sweep: every route, every method, every persona ----------------------------------

_ADMIN_MODEL = re.compile(r"^admin/\w+/\w+/")


def _sweep_group(route: Route) -> str:
    # One test per host route and one per admin model (its routes together), the rest of the
    # admin in one: the sweep spreads over the workers instead of holding one for a minute.
    if not route.is_admin:
        return "/" + route.pattern
    model = _ADMIN_MODEL.match(route.pattern)
    return "/" + (model.group() if model else "admin/")


SWEEP: dict[str, list[Route]] = {}
for _route in ROUTES:
    SWEEP.setdefault(_sweep_group(_route), []).append(_route)


def test_the_sweep_reaches_every_route_of_the_urlconf_once():
    swept = [route for group in SWEEP.values() for route in group]
    assert sorted(route.pattern for route in swept) == sorted(r.pattern for r in host_routes())
    # The host's own and the admin's.
    assert OWN_ROUTES
    assert ADMIN_ROUTES


@pytest.mark.parametrize("group", SWEEP)
def test_every_route_answers_every_method_and_persona_without_a_5xx(world, atomic, group):
    garbage = b'{"kind": "finish", "payload": {"taskId": "../\\u0000"}, "a": [[[[' + b"]]]]}"
    sent: Counter[str] = Counter()
    for route in SWEEP[group]:
        # The admin is Django's own code: GET and POST there, every method on the host's own.
        for method in ("GET", "POST") if route.is_admin else METHODS:
            for persona in PERSONAS:
                _send(
                    world,
                    persona=persona,
                    csrf=method == "DELETE",
                    route=route,
                    method=method,
                    values={},
                    query="",
                    body=garbage,
                    content_type="application/json",
                    headers={},
                )
                sent[route.pattern] += 1
    # Every route of the group was sent every method it is swept with, as every persona.
    assert sent == {
        route.pattern: (2 if route.is_admin else len(METHODS)) * len(PERSONAS)
        for route in SWEEP[group]
    }


hostile_requests = st.fixed_dictionaries(
    {
        # Weighted towards requests that reach a view: signed in, CSRF off, GET or POST.
        "persona": st.sampled_from(["anonymous", "alice", "alice", "carol"]),
        "csrf": st.sampled_from([False, False, True]),
        "method": st.one_of(st.sampled_from(["GET", "POST", "POST"]), st.sampled_from(METHODS)),
        "ids_of": st.sampled_from(["alice", "bob", "odd", "long"]),
        "odd_id": odd_text,
        "long_id": long_text,
        "query": st.one_of(
            st.just(""),
            st.dictionaries(odd_text, st.one_of(odd_text, long_text), max_size=3).map(_urlencode),
        ),
        "body": st.one_of(sdk_event_bodies, bodies),
        "hx": st.booleans(),
    }
)
LIMITS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _fire(world: World, route: Route, hostile: dict[str, Any]) -> None:
    match hostile["ids_of"]:
        case "alice" | "bob":
            values = world.ids[hostile["ids_of"]]
        case "odd":
            values = dict.fromkeys(route.params, hostile["odd_id"] or "\x00")
        case _:
            values = dict.fromkeys(route.params, hostile["long_id"])
    raw, content_type = hostile["body"]
    headers = {"hx-request": "true"} if hostile["hx"] else {}
    if route.pattern == WEBHOOK.lstrip("/"):
        # As a WSGI server hands over raw header bytes: decoded as latin-1.
        signature = (hostile["odd_id"] or "é").encode("utf-8", "surrogatepass")
        headers[SIGNATURE_HEADER] = signature.decode("latin-1")
    _send(
        world,
        persona=hostile["persona"],
        csrf=hostile["csrf"],
        route=route,
        method=hostile["method"],
        values=values,
        query=hostile["query"],
        body=raw,
        content_type=content_type,
        headers=headers,
    )


@pytest.mark.parametrize("route", OWN_ROUTES, ids=lambda route: "/" + route.pattern)
@settings(LIMITS, max_examples=EXAMPLES_PER_ROUTE)
@given(hostile=hostile_requests)
# Always tried on every route, whatever is generated: a signed-in POST of a finish whose taskId
# would move a URL path, with bob's ids in the path.
@example(
    hostile={
        "persona": "alice",
        "csrf": False,
        "method": "POST",
        "ids_of": "bob",
        "odd_id": "../",
        "long_id": "a" * 65,
        "query": "next=%00&partial=poll&since=%F0&after=-1",
        "body": (b'{"kind": "finish", "payload": {"taskId": "../a/b"}}', "application/json"),
        "hx": True,
    }
)
def test_generated_hostile_requests_to_each_host_route_never_5xx_and_refusals_change_nothing(
    world, atomic, route, hostile
):
    _fire(world, route, hostile)


@settings(LIMITS, max_examples=ADMIN_EXAMPLES)
@given(route=st.sampled_from(ADMIN_ROUTES), hostile=hostile_requests)
def test_generated_hostile_requests_to_the_admin_never_5xx_and_refusals_change_nothing(
    world, atomic, route, hostile
):
    _fire(world, route, hostile)


# Issue 13's findings, kept as fixed cases: each once answered 500 on SQLite or PostgreSQL.
REGRESSIONS = {
    "NUL in a value": '{"kind": "interaction", "payload": {"name": "a\\u0000b"}}',
    "NUL in a key": '{"kind": "interaction", "payload": {"a\\u0000b": 1}}',
    "NUL in the taskId": '{"kind": "finish", "payload": {"taskId": "task\\u0000"}}',
    "lone surrogate in a value": '{"kind": "close", "payload": {"reason": "\\ud800"}}',
    "lone surrogate in the taskId": '{"kind": "finish", "payload": {"taskId": "\\udfff"}}',
    "slash in the taskId": '{"kind": "finish", "payload": {"taskId": "task/1"}}',
    "dot-dot in the taskId": '{"kind": "finish", "payload": {"taskId": "../../admin"}}',
    "8,000-deep array": '{"kind": "interaction", "payload": {"v": '
    + "[" * 8000
    + "]" * 8000
    + "}}",
    # Issue 23's: a non-finite number anywhere (PostgreSQL's json and SQLite's JSON check refuse
    # them), and the bodies whose depth check took quadratic time (a second of CPU at 16 KiB).
    "NaN": '{"kind": "interaction", "payload": {"value": NaN}}',
    "Infinity": '{"kind": "interaction", "payload": {"a": [1, Infinity]}}',
    "-Infinity": '{"kind": "close", "payload": {"reason": -Infinity}}',
    "1e400": '{"kind": "interaction", "payload": {"value": 1e400}}',
    "non-finite in the launch": '{"kind": "finish", "payload": {}, "launch": {"n": -1e400}}',
    "unterminated escaped quotes": '{"kind": "close", "payload": {"reason": "' + '\\"' * 8000,
    "a storm of quotes": '{"kind": "close", "payload": {"reason": ' + '"' * 16000,
    "unterminated, ending in a backslash": '{"kind": "close", "payload": {"reason": "\\'
    + '"\\' * 8000,
}


@pytest.mark.parametrize("body", REGRESSIONS.values(), ids=REGRESSIONS.keys())
def test_each_past_500_from_sdk_events_is_now_a_4xx_with_a_sentence(world, atomic, body):
    response = _send(
        world,
        persona="alice",
        csrf=False,
        route=next(route for route in ROUTES if route.pattern == "hub/events/"),
        method="POST",
        values={},
        query="",
        body=body.encode(),
        content_type="application/json",
        headers={},
    )
    assert response.status_code == 400


@pytest.mark.parametrize("task_id", ["\x00", "\ud800", "..", "a" * 5000, "task-bob"])
def test_a_task_page_for_a_hostile_or_foreign_id_is_a_404_with_a_sentence(world, atomic, task_id):
    response = _send(
        world,
        persona="alice",
        csrf=False,
        route=next(route for route in ROUTES if route.params == ("task_id",)),
        method="GET",
        values={"task_id": task_id},
        query="",
        body=b"",
        content_type="text/plain",
        headers={},
    )
    assert response.status_code == 404


@pytest.mark.parametrize("body", REGRESSIONS.values(), ids=REGRESSIONS.keys())
@pytest.mark.parametrize("signature", ["0" * 64, "é"])
def test_the_webhook_is_sent_the_same_cases_and_never_accepts_them(world, body, signature):
    _send(
        world,
        persona="anonymous",
        csrf=True,
        route=next(route for route in ROUTES if route.pattern == WEBHOOK.lstrip("/")),
        method="POST",
        values={},
        query="",
        body=body.encode(),
        content_type="application/json",
        # As a WSGI server hands over raw header bytes: decoded as latin-1.
        headers={SIGNATURE_HEADER: signature.encode().decode("latin-1")},
    )


# Whole numbers written with characters str.isdigit() accepts and int() does not (or the
# reverse): superscripts, circled and Arabic-Indic digits, full-width ones, signs, underscores.
NOT_ASCII_DIGITS = ["²", "³", "①", "١٢", "\uff11\uff12", "+1", "1_0", "1 1", "-1", "1" * 40]


def _route(name: str) -> Route:
    return next(route for route in ROUTES if route.name == name)


@pytest.mark.parametrize("number", NOT_ASCII_DIGITS)
def test_every_integer_parameter_takes_ascii_digits_only(world, atomic, number):
    common = {"persona": "alice", "csrf": False, "values": {}, "headers": {}}
    # The dashboard's poll: not a version nor a time, so a 400 with a sentence.
    poll = _send(
        world,
        route=_route("paylink:dashboard-poll"),
        method="GET",
        query=_urlencode({"since": number, "after": number}),
        body=b"",
        content_type="text/plain",
        **common,
    )
    assert poll.status_code == 400
    # The month view: not a month, so this month.
    month = _send(
        world,
        route=_route("reminders:calendar-month"),
        method="GET",
        query=_urlencode({"month": f"2026-{number}"}),
        body=b"",
        content_type="text/plain",
        **common,
    )
    assert month.status_code == 200
    # The reminder settings form: not a number of days, so the form says so.
    settings_page = _send(
        world,
        route=_route("reminders:reminder-settings"),
        method="POST",
        query="",
        body=_urlencode({"email_reminders": "on", "days_before": number}).encode(),
        content_type="application/x-www-form-urlencoded",
        **common,
    )
    assert settings_page.status_code == 200
    assert b"Enter a whole number." in settings_page.content


@pytest.mark.parametrize("length", ["²", "١٢", "+12", "1_2"])
def test_an_sdk_event_with_a_content_length_that_is_not_ascii_digits_is_refused(
    world, atomic, length
):
    client = _client(world, "alice", csrf=False)
    response = client.generic(
        "POST",
        "/hub/events/",
        b'{"kind": "close", "payload": {}}',
        content_type="application/json",
        CONTENT_LENGTH=length,
    )
    assert response.status_code == 400
    assert _sentence(response.content)
    assert "length is not a whole number" in response.json()["error"]
