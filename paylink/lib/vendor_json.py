"""JSON from outside the host (Atomic's API and webhooks, the browser): parsed within bounds,
then read tolerantly.

`json_parse` is the one way raw bytes become Python values. It refuses, with a sentence fit to
show, what the host could not store or that would cost it unbounded work: bytes that are not
UTF-8, nesting deeper than `max_depth` (checked before parsing, so never a RecursionError),
numbers that are not finite (`NaN`, `Infinity`, or too large for a float, as `1e400`: not JSON,
and neither PostgreSQL's json nor SQLite's JSON check will store them), and text holding NUL or
a lone UTF-16 surrogate (PostgreSQL cannot store the first, and neither can be encoded back to
UTF-8).

Every check costs time linear in the body's size, whatever its bytes: the depth scan uses no
regex that can backtrack (a string is consumed in one possessive pass, an unterminated one to
the end), so a storm of escaped quotes costs what a plain body of the same size does.

The readers (`text`, `flag`, `dig`, `when`, `as_dict`, `as_list`) never raise: a value of the
wrong type reads as empty, so an unexpected shape from Atomic degrades instead of crashing.
"""

from __future__ import annotations

import json
import math
import re
from array import array
from datetime import UTC, datetime
from decimal import Decimal
from itertools import accumulate
from typing import Any

DEFAULT_MAX_DEPTH = 32

# Everything that is not a bracket of the structure: JSON strings (escapes included, so brackets
# inside strings are not nesting) and the bytes between them. Possessive, so nothing is ever
# tried twice: a string ends at its closing quote or, unterminated, at the end of the body
# (a trailing lone backslash included), and the scan goes on from there in either case. The
# alternative, a string that must close, made the regex engine retry from every quote of an
# unterminated one: quadratic time (a 16 KiB storm of escaped quotes cost a second of CPU).
_NOT_STRUCTURE = re.compile(rb'(?:"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)|[^"\[\]{}]++)++', re.DOTALL)
# Openers to +1 and closers to -1 (as signed bytes), everything else deleted.
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
# NUL, or a surrogate code point (only a lone one survives json.loads as such).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class JsonRejected(ValueError):
    """The input is not JSON the host accepts; the message says why, in a sentence."""


def _depth(body: bytes) -> int:
    """How deep the brackets outside strings nest: one regex pass, one translate, one running
    sum, all in C and each linear in the body's size."""
    steps = array("b")
    steps.frombytes(_NOT_STRUCTURE.sub(b"", body).translate(_STEPS, _NOT_BRACKETS))
    return max(0, max(accumulate(steps), default=0))


class _NotFinite(ValueError):
    pass


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _NotFinite(literal)
    return value


def _no_constant(literal: str) -> float:
    # json.loads hands NaN, Infinity and -Infinity here: JavaScript's words, not JSON.
    raise _NotFinite(literal)


def _unstorable(value: Any) -> bool:
    # Iterative, so a structure that passed the depth check costs no recursion either.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def json_parse(body: bytes | str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """The value `body` holds, or JsonRejected saying what is wrong with it."""
    if isinstance(body, str):
        raw = body.encode("utf-8", errors="surrogatepass")
    else:
        raw = body
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise JsonRejected("The body is not UTF-8 text.") from None
    if _depth(raw) > max_depth:
        raise JsonRejected(f"The JSON is nested more than {max_depth} levels deep.")
    try:
        value = json.loads(raw, parse_float=_finite_float, parse_constant=_no_constant)
    except _NotFinite:
        raise JsonRejected(
            "The JSON holds a number that is not finite (NaN, Infinity or one too large)."
        ) from None
    except (ValueError, RecursionError):
        raise JsonRejected("The body is not valid JSON.") from None
    if _unstorable(value):
        raise JsonRejected("The JSON holds a NUL character or a lone UTF-16 surrogate.")
    return value


def json_object_parse(body: bytes | str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> dict[str, Any]:
    """Like `json_parse`, for bodies that must be a JSON object."""
    value = json_parse(body, max_depth=max_depth)
    if not isinstance(value, dict):
        raise JsonRejected("The body must be a JSON object.")
    return value


# --- Tolerant readers ---------------------------------------------------------------------------


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def text(value: object, limit: int | None = None) -> str:
    """A string, or a number written out; "" for anything else. Stripped, cut to `limit`."""
    if isinstance(value, str):
        result = value.strip()
    elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        result = str(value)
    else:
        return ""
    return result[:limit] if limit is not None else result


def flag(value: object) -> bool | None:
    """True or False when the value is a JSON boolean; None otherwise."""
    return value if isinstance(value, bool) else None


def dig(value: object, *keys: str) -> Any:
    """`value[k1][k2]...`, or None as soon as a step is not an object."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def when(value: object) -> datetime | None:
    """An ISO 8601 date or datetime, with or without milliseconds or Z; naive means UTC."""
    raw = text(value)
    if not raw:
        return None
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
