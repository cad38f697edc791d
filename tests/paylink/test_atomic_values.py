"""Atomic's values as the host reads them wherever they arrive: ids, failure reasons, account
numbers."""

from __future__ import annotations

import pytest

from paylink.atomic_values import ATOMIC_ID, account_numbers_masked, atomic_id, fail_reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("64b5f1c2e4b0a1b2c3d4e5f6", "64b5f1c2e4b0a1b2c3d4e5f6"),
        ("task_2f1e-uuid", "task_2f1e-uuid"),
        ("../admin", None),
        ("a" * 65, None),
        ("", None),
        (123, None),
    ],
)
def test_only_atomics_id_shape_is_taken_for_an_id(value, expected):
    assert atomic_id(value) == expected
    assert bool(isinstance(value, str) and ATOMIC_ID.fullmatch(value)) == (expected is not None)


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
