"""The measurements behind `make bench`; imported only after Django is set up."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from paylink.models import AccountSnapshot, Profile, Task

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "accounts" / "hulu.json"
TASK_ID = "bench-task-completed"


@dataclass
class Endpoint:
    name: str
    request: Callable[[], int]
    ok_statuses: tuple[int, ...] = (200,)
    samples: list[float] | None = None
    unavailable: str = ""


def accounts_payload(count: int) -> dict:
    hulu = json.loads(FIXTURE.read_text())["accounts"][0]
    accounts = []
    for index in range(count):
        account = copy.deepcopy(hulu)
        account["_id"] = f"bench{index:04d}"
        account["company"]["name"] = f"Biller {index}"
        account["account"]["billing"]["amount"] = round(9.99 + index, 2)
        accounts.append(account)
    return {"accounts": accounts}


def user_with_accounts(username: str, count: int) -> tuple[User, Profile]:
    user = User.objects.create_user(username)
    profile = Profile.objects.create(user=user)
    AccountSnapshot.objects.create(
        profile=profile, payload=accounts_payload(count), version=1, fetched_at=timezone.now()
    )
    return user, profile


def url_or_none(name: str, *args: str) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def dashboard_queries(user: User) -> int:
    client = Client()
    client.force_login(user)
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    return len(queries)


def webhook_request(client: Client, url: str, profile: Profile) -> Callable[[], int]:
    def send() -> int:
        body = json.dumps(
            {
                "eventType": "task-authentication-status-updated",
                "eventTime": timezone.now().isoformat(),
                "user": {"_id": "bench-user", "identifier": profile.identifier},
                "data": {"taskId": TASK_ID, "authenticated": True},
            }
        ).encode()
        signature = hmac.new(settings.ATOMIC_API_SECRET.encode(), body, hashlib.sha256).hexdigest()
        return client.post(
            url,
            data=body,
            content_type="application/json",
            headers={
                "X-HMAC-Signature-Sha-256": signature,
                "ce-id": str(uuid.uuid4()),
                "ce-specversion": "1.0",
                "ce-source": "com.atomicfi",
                "ce-type": "com.atomicfi.task-authentication-status-updated",
                "ce-time": timezone.now().isoformat(),
            },
        ).status_code

    return send


def endpoints(user: User, profile: Profile) -> list[Endpoint]:
    browser = Client()
    browser.force_login(user)
    atomic = Client()

    def get(url: str | None, **headers: str) -> Callable[[], int]:
        return lambda: browser.get(url, headers=headers).status_code

    found = {
        "trivial view": url_or_none("bench-trivial"),
        "/hub/ launch page": url_or_none("paylink:hub"),
        "/ dashboard (warm)": url_or_none("paylink:dashboard"),
        "task poll (terminal, HTMX)": url_or_none("paylink:task", TASK_ID),
        "webhook ingest": url_or_none("paylink:atomic-webhook"),
    }
    result = []
    for name, url in found.items():
        if name == "webhook ingest":
            request = webhook_request(atomic, url, profile) if url else None
        elif name.startswith("task poll"):
            request = get(url, HX_Request="true") if url else None
        else:
            request = get(url) if url else None
        ok = (200, 286) if name.startswith("task poll") else (200,)
        endpoint = Endpoint(name=name, request=request or (lambda: 0), ok_statuses=ok)
        if url is None:
            endpoint.unavailable = "no such URL yet"
        result.append(endpoint)
    return result


def bench_run(*, rounds: int, warmup: int) -> int:
    call_command("migrate", verbosity=0, interactive=False)
    alice, alice_profile = user_with_accounts("alice", 50)
    bob, _ = user_with_accounts("bob", 1)
    Task.objects.create(
        profile=alice_profile, atomic_id=TASK_ID, status="completed", finished_at=timezone.now()
    )
    queries_one = dashboard_queries(bob)
    queries_fifty = dashboard_queries(alice)

    measured = endpoints(alice, alice_profile)
    for endpoint in measured:
        if endpoint.unavailable:
            continue
        status = endpoint.request()
        if status not in endpoint.ok_statuses:
            endpoint.unavailable = f"answered {status}"
    live = [e for e in measured if not e.unavailable]
    for _ in range(warmup):
        for endpoint in live:
            endpoint.request()
    for endpoint in live:
        endpoint.samples = []
    # Interleaved: each round times every endpoint once, so drift hits all of them alike.
    for _ in range(rounds):
        for endpoint in live:
            start = time.perf_counter()
            endpoint.request()
            endpoint.samples.append(time.perf_counter() - start)

    medians = {e.name: statistics.median(e.samples) for e in live if e.samples}
    trivial = medians.get("trivial view")
    print(f"{rounds} interleaved rounds after {warmup} warm-up rounds; medians in ms.\n")
    print(f"{'endpoint':<30} {'median ms':>10} {'x trivial':>10}")
    for endpoint in measured:
        if endpoint.unavailable:
            print(f"{endpoint.name:<30} {'not available':>21} ({endpoint.unavailable})")
            continue
        median = medians[endpoint.name]
        ratio = f"{median / trivial:.1f}" if trivial else "-"
        print(f"{endpoint.name:<30} {median * 1000:>10.2f} {ratio:>10}")
    dash, hub = medians.get("/ dashboard (warm)"), medians.get("/hub/ launch page")
    print()
    if dash and hub:
        print(f"dashboard / hub: {dash / hub:.2f} (budget: at most 5)")
    else:
        print("dashboard / hub: not available")
    print(
        f"dashboard SQL queries, cold cache: 1 account {queries_one}, 50 accounts {queries_fifty}"
    )
    return 0
