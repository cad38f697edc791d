"""JSON from outside: bounded parsing with a sentence for each refusal, tolerant reading."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime

import pytest

from paylink.lib.vendor_json import (
    JsonRejected,
    dig,
    flag,
    json_object_parse,
    json_parse,
    text,
    when,
)


def test_it_parses_ordinary_json():
    assert json_parse(b'{"a": [1, "x", {"b": null}]}') == {"a": [1, "x", {"b": None}]}


@pytest.mark.parametrize(
    ("body", "sentence"),
    [
        (b"\xff\xfe{}", "The body is not UTF-8 text."),
        (b"{nope", "The body is not valid JSON."),
        (b"[" * 8000 + b"]" * 8000, "The JSON is nested more than 32 levels deep."),
        (b'{"a": "\\u0000"}', "The JSON holds a NUL character or a lone UTF-16 surrogate."),
        (b'{"\\u0000": 1}', "The JSON holds a NUL character or a lone UTF-16 surrogate."),
        (b'["\\ud800"]', "The JSON holds a NUL character or a lone UTF-16 surrogate."),
        (b'{"k": {"\\udfff": "x"}}', "The JSON holds a NUL character or a lone UTF-16 surrogate."),
    ],
)
def test_it_refuses_with_a_sentence(body, sentence):
    with pytest.raises(JsonRejected) as refused:
        json_parse(body)
    assert str(refused.value) == sentence


def test_brackets_inside_strings_are_not_nesting():
    deep_looking = '{"a": "' + "[" * 1000 + '\\"' + "{" * 1000 + '"}'
    assert json_parse(deep_looking.encode())["a"].startswith("[[[")


def test_a_surrogate_pair_is_an_ordinary_character():
    assert json_parse(b'["\\ud83d\\ude00"]') == ["\U0001f600"]


def test_the_depth_limit_is_exact():
    assert json_parse(b"[" * 32 + b"]" * 32, max_depth=32)
    with pytest.raises(JsonRejected):
        json_parse(b"[" * 33 + b"]" * 33, max_depth=32)


def test_an_object_is_required_where_asked():
    with pytest.raises(JsonRejected, match="must be a JSON object"):
        json_object_parse(b"[1]")


def test_readers_tolerate_every_shape():
    assert text("  Hulu ") == "Hulu"
    assert text(42) == "42"
    assert text(True) == "" and text(None) == "" and text({"a": 1}) == ""
    assert text("abcdef", 3) == "abc"
    assert flag(True) is True and flag("true") is None
    assert dig({"a": {"b": 1}}, "a", "b") == 1
    assert dig({"a": [1]}, "a", "b") is None
    assert when("2026-01-02T03:04:05.000Z") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert when("yesterday") is None


@pytest.mark.parametrize(
    "body",
    [b"[NaN]", b'{"a": Infinity}', b'{"a": [-Infinity]}', b"[1e400]", b'{"a": -1e400}'],
)
def test_a_number_that_is_not_finite_is_refused_with_a_sentence(body):
    with pytest.raises(JsonRejected) as refused:
        json_parse(body)
    assert str(refused.value) == (
        "The JSON holds a number that is not finite (NaN, Infinity or one too large)."
    )


def test_finite_numbers_still_parse():
    assert json_parse(b"[1.5, -2e10, 1e308, 12345678901234567890]") == [
        1.5,
        -2e10,
        1e308,
        12345678901234567890,
    ]


def test_an_unterminated_string_hides_no_brackets_and_is_refused_as_invalid():
    with pytest.raises(JsonRejected, match="not valid JSON"):
        json_parse(b'{"a": "\\"[[[[' + b"[" * 100)
    with pytest.raises(JsonRejected, match="not valid JSON"):
        json_parse(b'{"a": "x\\')


# --- Cost: linear in the size, whatever the bytes ------------------------------------------------

SIZE = 32 * 1024
HEAD = b'{"kind": "interaction", "payload": {"name": '


def _sized(body: bytes) -> bytes:
    return body[:SIZE]


# What the hostile-input suite can generate at its worst: runs of escapes, unterminated strings
# and storms of quotes, each beside a plain body of the same size.
PLAIN = HEAD + b'"' + b"x" * SIZE
PATHOLOGICAL = {
    "unterminated escaped quotes": HEAD + b'"' + b'\\"' * SIZE,
    "terminated escaped quotes": _sized(HEAD + b'"' + b'\\"' * SIZE) + b'"}}',
    "unterminated, ending in a lone backslash": HEAD + b'"\\' + b'"\\' * SIZE,
    "a storm of quotes": HEAD + b'"' * SIZE,
    "a run of backslashes": _sized(HEAD + b'"' + b"\\\\" * SIZE) + b'"}}',
    "escaped quotes outside any string": HEAD + b'\\"' * SIZE,
    "brackets inside an unterminated string": HEAD + b'"\\"' + b"[{" * SIZE,
    "unicode escapes": _sized(HEAD + b'"' + b"\\u00e9" * SIZE) + b'"}}',
}


def _cpu_seconds(body: bytes) -> float:
    started = time.thread_time()
    with contextlib.suppress(JsonRejected):
        json_parse(body)
    return time.thread_time() - started


@pytest.mark.parametrize("body", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_a_pathological_body_costs_about_what_a_plain_one_of_the_same_size_does(body):
    body, plain = _sized(body), _sized(PLAIN + b"x" * SIZE)
    assert len(body) == len(plain) == SIZE
    # Measured side by side, the best of several tries each, so a busy machine slows both alike.
    # Before the depth scan was rewritten the first of these cost about 2,600 times the plain.
    # Linear now, but two bytes of escape take the regex a step each where plain text is one
    # run: 4 to 6 times the plain on some processors, under 4 on others.
    pathological_cost = plain_cost = float("inf")
    for _ in range(7):
        plain_cost = min(plain_cost, _cpu_seconds(plain))
        pathological_cost = min(pathological_cost, _cpu_seconds(body))
    assert pathological_cost < 12 * plain_cost, (pathological_cost, plain_cost)


def test_the_cost_grows_in_proportion_to_the_size():
    def cost(size: int) -> float:
        body = HEAD + b'"' + b'\\"' * size
        return min(_cpu_seconds(body) for _ in range(7))

    small, large = cost(SIZE // 4), cost(SIZE)
    # Four times the bytes: about four times the time (a quadratic scan would be sixteen).
    assert large < 8 * small, (large, small)
