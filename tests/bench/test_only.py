"""BENCH_ONLY narrows a bench run to the endpoints a question needs."""

from __future__ import annotations

from bench.run import Endpoint, endpoints_named


def named(*names: str) -> list[Endpoint]:
    return [Endpoint(name, lambda: 200) for name in names]


def test_without_bench_only_every_endpoint_is_timed(monkeypatch):
    monkeypatch.delenv("BENCH_ONLY", raising=False)
    found = named("trivial view", "data download, 5000 accounts", "sync store, 5000")
    assert endpoints_named(found) == found


def test_bench_only_keeps_the_endpoints_it_names_and_the_trivial_view(monkeypatch):
    monkeypatch.setenv("BENCH_ONLY", "download, sync store")
    found = named(
        "trivial view",
        "/ cold, 5000 accounts",
        "data download, 5000 accounts",
        "download 5000, after a sync",
        "sync store, 5000 changed accounts",
    )
    assert [e.name for e in endpoints_named(found)] == [
        "trivial view",
        "data download, 5000 accounts",
        "download 5000, after a sync",
        "sync store, 5000 changed accounts",
    ]
