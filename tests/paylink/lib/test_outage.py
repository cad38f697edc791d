"""Redis or the database unreachable: every answer is a sentence in the person's language and
a 503, never Django's bare "Server Error (500)"; pages that only need the cache render without
it; sign-in fails closed."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
import requests
from django.core.cache import caches
from django.db import OperationalError
from django.test import Client, override_settings
from django.urls import reverse

from paylink.models import Task
from paylink.services.profiles import profile_for_user
from tests.fresh_process import ROOT, environment
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db

# Nothing listens on port 1: every connection is refused at once.
NOWHERE = "redis://127.0.0.1:1/0"
REDIS_DOWN = {
    "default": {"BACKEND": "paylink.lib.cache_backends.TolerantRedisCache", "LOCATION": NOWHERE},
    "throttle": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": NOWHERE},
}
SIGN_IN_PAUSED = {
    "en": "Signing in is paused for a moment",
    "es": "El inicio de sesión está en pausa por un momento",
}
UNAVAILABLE = {
    "en": "Billfold is briefly unavailable",
    "es": "Billfold no está disponible por un momento",
}


@pytest.fixture
def redis_down() -> Iterator[None]:
    with override_settings(CACHES=REDIS_DOWN):
        for alias in ("default", "throttle"):
            caches[alias].close()
        yield
    for alias in ("default", "throttle"):
        caches[alias].close()


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("password", ["alice-pass-1234", "wrong"])
def test_with_redis_down_sign_in_is_refused_with_a_503_and_a_sentence(
    alice, redis_down, language, password
):
    client = Client(headers={"accept-language": language})
    response = client.post(reverse("login"), {"username": "alice", "password": password})
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert SIGN_IN_PAUSED[language] in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_with_redis_down_the_sign_in_page_itself_still_opens(redis_down, db):
    assert Client().get(reverse("login")).status_code == 200


def test_with_redis_down_signed_in_pages_render_without_the_cache(alice, redis_down, atomic):
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    profile = profile_for_user(user=alice)
    task = Task.objects.create(profile=profile, atomic_id="task-1")
    for url in (
        reverse("paylink:dashboard"),
        reverse("paylink:task", args=[task.atomic_id]),
        reverse("paylink:hub"),
        reverse("reminders:calendar-month"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    # Refresh, the token and an SDK event: a signed-in person's own actions go ahead.
    assert client.post(reverse("paylink:dashboard-refresh")).status_code == 302
    assert client.post(reverse("paylink:token")).json() == {"publicToken": "public-token"}
    event = client.post(
        reverse("paylink:sdk-event"),
        json.dumps({"kind": "close", "payload": {"reason": "unknown"}}),
        content_type="application/json",
    )
    assert event.status_code == 200


@contextmanager
def database_down() -> Iterator[None]:
    """Every query from here on meets PostgreSQL's (or SQLite's) refusal to connect."""
    refused = OperationalError('connection to server at "127.0.0.1", port 1 failed: refused')
    with (
        mock.patch(
            "django.db.backends.base.base.BaseDatabaseWrapper.ensure_connection",
            side_effect=refused,
        ),
        mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=refused),
    ):
        yield


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/"), ("GET", "/hub/"), ("GET", "/settings/reminders/"), ("POST", "/refresh/")],
)
def test_with_the_database_down_every_page_is_a_503_with_a_sentence(alice, language, method, path):
    client = Client(raise_request_exception=False, headers={"accept-language": language})
    client.force_login(alice)
    with database_down():
        response = client.generic(method, path)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert UNAVAILABLE[language] in body
    assert f'<html lang="{language}">' in body
    assert "Server Error (500)" not in body


@pytest.mark.parametrize("language", ["en", "es"])
def test_with_the_database_down_signing_in_is_a_503_with_a_sentence(alice, language):
    client = Client(raise_request_exception=False, headers={"accept-language": language})
    with database_down():
        response = client.post(reverse("login"), {"username": "alice", "password": "x"})
    assert response.status_code == 503
    assert UNAVAILABLE[language] in response.content.decode()


def test_with_the_database_down_a_script_gets_its_sentence_as_json(alice):
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    with database_down():
        response = client.post(
            "/hub/events/", b'{"kind": "close", "payload": {}}', content_type="application/json"
        )
    assert response.status_code == 503
    assert response.json()["error"].startswith(UNAVAILABLE["en"])


def test_any_other_error_is_a_500_with_a_sentence_not_djangos_bare_page(alice_client):
    alice_client.raise_request_exception = False
    with mock.patch("paylink.views.dashboard.snapshot_for_user", side_effect=RuntimeError):
        response = alice_client.get("/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Server Error (500)" not in body
    assert "Nothing you saved was lost." in body


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_production_stack_with_postgresql_and_redis_unreachable_answers_sentences(tmp_path):
    """gunicorn as the Procfile runs it, debug off, PostgreSQL and Redis both refusing. (The
    test setting only spares a collectstatic: static files are served from the tree.)"""
    port = _free_port()
    env = environment(
        DJANGO_DEBUG="false",
        PAYLINK_TESTING="true",
        DJANGO_SECRET_KEY="outage-test-" + "k" * 40,
        ATOMIC_ENV="simulator",
        DATABASE_URL="postgres://root@127.0.0.1:1/nowhere",
        CACHE_URL=NOWHERE,
        PORT=str(port),
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="2",
        GUNICORN_GRACEFUL_TIMEOUT="1",
        GUNICORN_BIND=f"127.0.0.1:{port}",
    )
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stderr=(tmp_path / "gunicorn.log").open("w"),
        stdout=(tmp_path / "gunicorn.out").open("w"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        session = requests.Session()
        wait_until(lambda: _answers(f"{base}/healthz"), what="gunicorn up", timeout=30)
        page = session.get(f"{base}/accounts/login/", headers={"Accept-Language": "es"})
        assert page.status_code == 200
        csrf = session.cookies["csrftoken"]
        signing_in = session.post(
            f"{base}/accounts/login/",
            data={"csrfmiddlewaretoken": csrf, "username": "alice", "password": "x"},
            headers={"Accept-Language": "es", "Referer": f"{base}/accounts/login/"},
        )
        assert signing_in.status_code == 503
        assert SIGN_IN_PAUSED["es"] in signing_in.text
        # A signed-in browser (a session cookie): its session is in the unreachable database.
        session.cookies.set("sessionid", "x" * 32)
        for path in ("/", "/hub/", "/settings/reminders/"):
            response = session.get(f"{base}{path}", allow_redirects=False)
            assert response.status_code == 503, path
            assert UNAVAILABLE["en"] in response.text
            assert "Server Error (500)" not in response.text
    finally:
        server.terminate()
        server.wait(timeout=30)
        print((tmp_path / "gunicorn.log").read_text()[-3000:])  # shown when the test fails


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False
