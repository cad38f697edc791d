"""Error reports: Sentry's SDK, scrubbed of secrets, tokens and account numbers before sending."""

from __future__ import annotations

import json
import logging

import pytest
import sentry_sdk

from paylink.observability.errors import sentry_init
from paylink.observability.log_context import log_context
from paylink.observability.scrub import text_scrubbed, value_scrubbed
from tests.paylink.observability.sentry_stand_in import sentry_to_stand_in

API_SECRET = "atomic-api-secret-xyz987"
ACCOUNT = "4111222233334444"


def test_without_a_dsn_the_sdk_is_not_started():
    assert sentry_init(dsn="", environment="", release="", traces_sample_rate=0) is False


def test_text_loses_secrets_tokens_and_all_but_four_digits_of_an_account_number(settings):
    settings.ATOMIC_API_SECRET = API_SECRET
    text = text_scrubbed(
        f"secret {API_SECRET} Bearer abc.def-123 token=tok-999 account {ACCOUNT} "
        "card 4111 2222 3333 4444 at 2026-12-06 10:00:01 event 42 "
        "job 12342240-1025-474b-a9c4-284e7faa5f72 iban 4111-2222-3333-4444"
    )
    assert API_SECRET not in text and "abc.def-123" not in text and "tok-999" not in text
    assert ACCOUNT not in text and "4111 2222" not in text
    assert text.count("4444") == 3 and "4111-2222" not in text
    assert "2026-12-06 10:00:01" in text and "event 42" in text
    assert "12342240-1025-474b-a9c4-284e7faa5f72" in text


def test_values_under_secret_keys_are_replaced_wherever_they_are():
    scrubbed = value_scrubbed(
        {
            "headers": {"Authorization": "Bearer x", "X-Api-Key": "k"},
            "accountNumber": ACCOUNT,
            "list": [{"publicToken": "pt"}],
            "n": int(ACCOUNT),
        },
        numbers=True,
    )
    assert scrubbed["headers"] == {"Authorization": "[redacted]", "X-Api-Key": "[redacted]"}
    assert scrubbed["list"] == [{"publicToken": "[redacted]"}]
    assert scrubbed["accountNumber"].endswith("4444") and ACCOUNT not in scrubbed["accountNumber"]
    assert ACCOUNT not in str(scrubbed["n"])


@pytest.mark.django_db
def test_an_error_report_reaches_the_stand_in_without_secrets_or_account_numbers(settings):
    settings.ATOMIC_API_SECRET = API_SECRET

    def failing(account_number: str, api_secret: str) -> None:
        password = "hunter2-password"  # noqa: F841 - a local Sentry would send
        raise RuntimeError(f"Atomic refused {account_number} with {api_secret}")

    with (
        sentry_to_stand_in() as stand_in,
        log_context(request_id="req-sentry-1", ce_id="ce-sentry-1"),
    ):
        try:
            failing(ACCOUNT, API_SECRET)
        except RuntimeError:
            sentry_sdk.capture_exception()
        logging.getLogger("paylink.tasks").error("sync failed for %s", ACCOUNT)
    sent = stand_in.text()
    events = [json.loads(line) for line in sent.splitlines() if line.startswith('{"')]
    reports = [event for event in events if "exception" in event or "logentry" in event]
    assert len(reports) == 2, sent[:2000]
    assert API_SECRET not in sent and ACCOUNT not in sent and "hunter2-password" not in sent
    assert "••••••••••••4444" in json.dumps(reports, ensure_ascii=False)
    assert reports[0]["tags"]["request_id"] == "req-sentry-1"
    assert reports[0]["tags"]["ce_id"] == "ce-sentry-1"
