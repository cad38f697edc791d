"""Tolerant parsing of Atomic's accounts payload."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from paylink.lib.vendor_json import when
from paylink.payloads import accounts_parse, amount_parse, url_parse
from tests.atomic_json import atomic_json


def test_it_parses_the_seed_hulu_example():
    (hulu,) = accounts_parse(atomic_json("accounts/hulu"))
    assert hulu.id == "67376c5befe988922e8aabc4"
    assert hulu.company.name == "Hulu"
    assert hulu.company.color == "#040405"
    assert hulu.company.logo_url.startswith("https://cdn-public.atomicfi.com/")
    assert hulu.type == "subscription"
    assert hulu.billing.amount == Decimal("20.46")
    assert hulu.billing.due_date == datetime(2024, 11, 20, 23, 59, 59, tzinfo=UTC)
    assert hulu.billing.autopay.enabled is True
    assert hulu.billing.autopay.cycle == "monthly"
    assert [i.amount for i in hulu.billing.items] == [Decimal("76.99"), Decimal("45.89")]
    assert hulu.billing.primary_payment_method.last_four == "2345"
    (plan,) = hulu.plans
    assert plan.status == "active" and plan.free_trial is False
    assert plan.pending_change.status == "paused"
    assert plan.pending_change.end_date == datetime(2024, 12, 20, 23, 59, 59, tzinfo=UTC)
    assert [(a.type, a.id) for a in hulu.actions] == [
        ("change-plan", "BASE64_ENCODED_ID"),
        ("cancel-plan", "BASE64_ENCODED_ID"),
        ("pause-plan", "BASE64_ENCODED_ID"),
    ]
    assert [s.monthly_savings for s in hulu.suggestions] == [Decimal(10), Decimal(5)]


def test_it_keeps_unknown_enum_values_as_they_came():
    markup, *_ = accounts_parse(atomic_json("accounts/messy"))
    assert markup.type == "hologram"
    assert markup.suggestions[0].category == "telepathic-savings"
    assert markup.plans[0].status == "hibernating"
    assert markup.billing.autopay.status == "sleeping"
    assert markup.billing.autopay.enabled is None
    assert ("teleport", "act-unknown-type") in [(a.type, a.id) for a in markup.actions]


def test_it_accepts_both_action_shapes_and_drops_actions_without_an_id():
    markup, *_ = accounts_parse(atomic_json("accounts/messy"))
    assert [(a.type, a.id, a.automated) for a in markup.actions] == [
        ("cancel-plan", "act-new-shape", True),
        ("teleport", "act-unknown-type", None),
    ]


def test_it_finds_the_newer_shapes_actions_under_expenses_and_bills_each_id_once():
    (hulu,) = accounts_parse(atomic_json("accounts/newer"))
    assert [(a.type, a.id, a.automated) for a in hulu.actions] == [
        ("change-plan", "NEWER_CHANGE_ID", False),
        ("cancel-plan", "NEWER_CANCEL_ID", True),
        ("pause-plan", "NEWER_PAUSE_ID", True),
    ]
    assert hulu.billing is not None and hulu.billing.account_number.endswith("1919")


def test_it_tolerates_null_billing_missing_company_and_non_objects():
    accounts = accounts_parse(atomic_json("accounts/messy"))
    assert len(accounts) == 3
    assert accounts[1].billing is None
    assert accounts[2].company.name == "Unknown company"
    assert accounts[2].billing.amount is None
    assert accounts[2].billing.due_date is None
    assert accounts[2].billing.autopay is None


def test_it_drops_unsafe_logo_urls_and_colours():
    markup, insurer, _ = accounts_parse(atomic_json("accounts/messy"))
    assert markup.company.logo_url is None
    assert markup.company.color is None
    assert insurer.company.logo_url == "http://127.0.0.1:8001/static/logo.png"
    assert insurer.company.color == "#1a2b3c"


def test_it_keeps_only_the_last_four_of_a_payment_method():
    markup, *_ = accounts_parse(atomic_json("accounts/messy"))
    assert markup.billing.primary_payment_method.last_four == "5678"


@pytest.mark.parametrize("payload", [None, [], "text", {"accounts": None}, {"accounts": "x"}, {}])
def test_it_reads_a_malformed_payload_as_no_accounts(payload):
    assert accounts_parse(payload) == ()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (20.46, Decimal("20.46")),
        ("20.46", Decimal("20.46")),
        ("$1,020.50", Decimal("1020.50")),
        (7, Decimal(7)),
        (None, None),
        ("", None),
        ("abc", None),
        (True, None),
        ({"value": 1}, None),
        ("NaN", None),
        ("Infinity", None),
    ],
)
def test_it_parses_amounts_from_numbers_and_strings(raw, expected):
    assert amount_parse(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-11-20T23:59:59.000Z", datetime(2024, 11, 20, 23, 59, 59, tzinfo=UTC)),
        ("2024-11-20T23:59:59Z", datetime(2024, 11, 20, 23, 59, 59, tzinfo=UTC)),
        ("2024-11-20T23:59:59+00:00", datetime(2024, 11, 20, 23, 59, 59, tzinfo=UTC)),
        ("2024-11-20", datetime(2024, 11, 20, tzinfo=UTC)),
        ("2026-13-45T99:00:00Z", None),
        ("tomorrow", None),
        (None, None),
        (12345, None),
    ],
)
def test_it_parses_iso_dates_with_or_without_milliseconds(raw, expected):
    assert when(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://cdn.example/logo.png", "https://cdn.example/logo.png"),
        ("http://127.0.0.1:8001/logo.png", "http://127.0.0.1:8001/logo.png"),
        ("javascript:alert(1)", None),
        ("data:image/png;base64,AAAA", None),
        ("//evil.example/x.png", None),
        ("https://a.example/x y.png", None),
        (None, None),
    ],
)
def test_it_lets_only_http_urls_through(raw, expected):
    assert url_parse(raw) == expected
