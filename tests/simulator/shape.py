"""Compare a simulator answer with one of Atomic's published examples, key by key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "simulator"


def seed(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def shape_differences(
    actual: Any, example: Any, *, optional: frozenset[str] = frozenset(), at: str = "$"
) -> list[str]:
    """Every key of `example` present in `actual` with the same JSON type, recursively.

    List items are compared with the example's first item; keys in `optional` may be absent.
    """
    problems: list[str] = []
    if _kind(actual) != _kind(example):
        return [f"{at}: {_kind(actual)} where the example has {_kind(example)}"]
    if isinstance(example, dict):
        for key, value in example.items():
            if key not in actual:
                if key not in optional:
                    problems.append(f"{at}.{key}: missing")
                continue
            problems += shape_differences(actual[key], value, optional=optional, at=f"{at}.{key}")
    elif isinstance(example, list) and example and actual:
        for index, item in enumerate(actual):
            problems += shape_differences(item, example[0], optional=optional, at=f"{at}[{index}]")
    return problems
