"""This process's own value of a metric (other test processes share the multiprocess folder)."""

from __future__ import annotations

from typing import Any


def counted(metric: Any, *labels: str) -> float:
    child = metric.labels(*labels) if labels else metric
    return float(child._value.get())


def observed(metric: Any, *labels: str) -> tuple[int, float]:
    """A histogram's (count, sum) in this process."""
    child = metric.labels(*labels) if labels else metric
    return int(sum(bucket.get() for bucket in child._buckets)), float(child._sum.get())
