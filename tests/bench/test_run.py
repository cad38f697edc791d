"""`make bench` can fail: its machinery, run in process on the suite's database with a few
rounds against a deliberately broken setting, reports the figure MISSED and the command's
exit status follows; and every request is timed by the wall clock and by CPU time."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from bench.run import Endpoint, Target, measure, report, user_with_accounts

pytestmark = pytest.mark.django_db


@pytest.fixture
def bench_urls(settings):
    settings.ROOT_URLCONF = "bench.urls"


def warm_dashboard(alice) -> list[Endpoint]:
    trivial = Client()
    trivial.force_login(alice)
    user, _ = user_with_accounts("bench-warm-200", 200)
    owner = Client()
    owner.force_login(user)
    dashboard = reverse("paylink:dashboard")
    return [
        Endpoint("trivial view", lambda: trivial.get("/bench/trivial/").status_code),
        Endpoint(
            "/ warm, 200 accounts", lambda: owner.get(dashboard).status_code, target=Target(3)
        ),
    ]


def test_a_warm_dashboard_without_its_cache_is_missed(bench_urls, alice, settings, capsys):
    # Broken: no cache, so every "warm" render is a cold one (about 7x the trivial view).
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    measured = warm_dashboard(alice)

    measure(measured, rounds=5, warmup=1, count_queries=True)
    missed = report(measured, rounds=5, warmup=1, where="test")

    assert missed == 1
    line = next(line for line in capsys.readouterr().out.splitlines() if "/ warm" in line)
    assert line.rstrip().endswith("MISSED")


def test_every_request_is_timed_by_the_wall_clock_and_by_cpu_time(bench_urls, alice):
    measured = warm_dashboard(alice)

    measure(measured, rounds=3, warmup=0, count_queries=False)

    for endpoint in measured:
        assert len(endpoint.samples) == len(endpoint.cpu_samples) == 3
        assert all(wall > 0 for wall in endpoint.samples)


def test_an_endpoint_with_a_target_that_cannot_be_timed_is_missed(capsys):
    measured = [
        Endpoint("trivial view", lambda: 200),
        Endpoint("task poll, running", lambda: 500, target=Target(1.5, 2)),
    ]

    measure(measured, rounds=2, warmup=0, count_queries=False)

    assert report(measured, rounds=2, warmup=0, where="test") == 1
    assert "answered 500" in capsys.readouterr().out
