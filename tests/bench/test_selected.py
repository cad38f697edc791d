"""BENCH_ENDPOINTS: a shorter bench run about a few pages keeps its yardsticks."""

from __future__ import annotations

import pytest

from bench.run import Endpoint, Target, selected


def ok() -> int:
    return 200


ENDPOINTS = [
    Endpoint("trivial view", ok),
    Endpoint("/hub/ launch page", ok),
    Endpoint("/ cold, 1 accounts", ok),
    Endpoint("/ cold, 1000 accounts", ok, target=Target(10, relative_to="/hub/ launch page")),
    Endpoint("/ warm, 1 accounts", ok),
    Endpoint("task poll, running", ok),
]


def names(monkeypatch: pytest.MonkeyPatch, wanted: str | None) -> list[str]:
    if wanted is None:
        monkeypatch.delenv("BENCH_ENDPOINTS", raising=False)
    else:
        monkeypatch.setenv("BENCH_ENDPOINTS", wanted)
    return [e.name for e in selected(ENDPOINTS)]


def test_unset_it_keeps_every_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    assert names(monkeypatch, None) == [e.name for e in ENDPOINTS]


def test_it_keeps_the_named_ones_the_trivial_view_and_what_their_targets_are_relative_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert names(monkeypatch, "/ cold, poll") == [
        "trivial view",
        "/hub/ launch page",
        "/ cold, 1 accounts",
        "/ cold, 1000 accounts",
        "task poll, running",
    ]
