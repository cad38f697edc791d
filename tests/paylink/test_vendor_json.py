"""JSON from outside: bounded parsing with a sentence for each refusal, tolerant reading."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from paylink.vendor_json import (
    JsonRejected,
    dig,
    fail_reason,
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
    ("task", "reason"),
    [
        ({"failReason": "bad-credentials"}, "bad-credentials"),
        ({"reason": "payment-method-declined"}, "payment-method-declined"),
        ({"failReason": "", "reason": "account-lockout"}, "account-lockout"),
        ({}, ""),
        ("not a task", ""),
    ],
)
def test_a_fail_reason_is_read_from_either_key(task, reason):
    assert fail_reason(task) == reason


def test_account_numbers_keep_their_last_four_characters_only():
    from paylink.vendor_json import account_numbers_masked

    payload = {
        "accountNumber": "8498390016491919",
        "billing": [{"routingNumber": 123456789, "amount": 20.46}],
        "phoneNumber": "",
        "name": "Hulu",
    }
    assert account_numbers_masked(payload) == {
        "accountNumber": "••••1919",
        "billing": [{"routingNumber": "••••6789", "amount": 20.46}],
        "phoneNumber": "",
        "name": "Hulu",
    }
