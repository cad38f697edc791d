from __future__ import annotations

from unittest import mock

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from paylink.models import Task
from paylink.services.profiles import profile_for_user

pytestmark = pytest.mark.django_db

# Atomic cannot sign in: the webhook proves itself with its signature instead. Calendar apps and
# mail clients cannot either: the feed and the unsubscribe link carry a secret of their own.
PUBLIC_NAMES = {"webhook", "atomic-webhook", "webhooks", "calendar-feed", "unsubscribe"}


def _paylink_urls() -> list[tuple[str, str]]:
    """Every route of the paylink and reminders namespaces, with placeholder values for its parameters."""
    resolver = get_resolver()
    found = []

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for entry in patterns:
            route = str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + route, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and namespace in {"paylink", "reminders"}:
                found.append((entry.name or "", prefix + route))

    walk(resolver.url_patterns, "", None)
    urls = []
    for name, route in found:
        path = route.replace("^", "").replace("$", "")
        for converter in ("<str:", "<slug:", "<uuid:", "<int:", "<path:", "<"):
            while converter in path:
                start = path.index(converter)
                end = path.index(">", start)
                path = path[:start] + ("1" if converter == "<int:" else "x") + path[end + 1 :]
        urls.append((name, "/" + path))
    return urls


def test_the_walk_finds_the_hub_routes():
    names = {name for name, _ in _paylink_urls()}
    assert {"dashboard", "hub", "token", "sdk-event", "task", "reminder-settings"} <= names


def _private_urls() -> list[tuple[str, str]]:
    return [(n, u) for n, u in _paylink_urls() if n not in PUBLIC_NAMES and "webhook" not in u]


@pytest.mark.parametrize(("name", "url"), _private_urls())
def test_every_paylink_page_sends_anonymous_visitors_to_sign_in(client, name, url):
    with mock.patch("paylink.client.atomic_client") as factory:
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, f"{method.__name__.upper()} {url}"
            assert response["Location"].startswith("/accounts/login/?next=")
        factory.assert_not_called()


def test_bob_gets_a_404_for_alices_task(alice, bob):
    Task.objects.create(profile=profile_for_user(user=alice), atomic_id="task-alice")
    client = Client()
    client.force_login(bob)
    with mock.patch("paylink.client.atomic_client") as factory:
        assert client.get("/hub/tasks/task-alice/").status_code == 404
        assert (
            client.get("/hub/tasks/task-alice/", headers={"hx-request": "true"}).status_code == 404
        )
        factory.assert_not_called()


def test_only_sign_in_sign_up_reset_language_the_webhook_feed_and_unsubscribe_are_public():
    public = set()

    def walk(patterns, namespace: str | None) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, entry.namespace or namespace)
            elif getattr(entry.callback, "login_required", True) is False:
                public.add(f"{namespace}:{entry.name}" if namespace else entry.name)

    walk(get_resolver().url_patterns, None)
    # The admin marks its own login page; everything else of the admin needs staff.
    public.discard("admin:login")
    assert public == {
        "login",
        "signup",
        "password_reset",
        "password_reset_done",
        "password_reset_confirm",
        "password_reset_complete",
        "paylink:atomic-webhook",
        # The language switcher (on the sign-in page too) and hub.js's sentences, no secret.
        "set_language",
        "javascript-catalog",
        "reminders:calendar-feed",
        "reminders:unsubscribe",
    }
