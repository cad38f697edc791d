"""The person's data download, as text: the shapes the sync writes for each account
(`account_rows`) and the download joins (`selectors.account_data`), so both write the same.

Account numbers are masked (`atomic_values.account_numbers_masked`) in every piece.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from paylink.atomic_values import account_numbers_masked

# Compact, and written by the C encoder a piece at a time: `indent` (or `iterencode`) would
# force the pure-Python one, three quarters of the time at 5,000 accounts.
ENCODER = DjangoJSONEncoder(separators=(",", ":"), ensure_ascii=False)

# What the download lists of each bill (`Bill` columns), in this order.
BILL_FIELDS = (
    "company_name",
    "name",
    "kind",
    "amount",
    "monthly_amount",
    "due_at",
    "plan_status",
    "pending_status",
    "autopay",
    "payment_method",
    "payment_last_four",
    "account_last_four",
)

_DECODER = json.JSONDecoder()
_KEY_END = 'number":'


def bills_text(bills: list[dict[str, Any]]) -> str:
    """Bills (their `BILL_FIELDS` by name, as the database gives them back: amounts as
    Decimals, instants in UTC) as the download lists them: JSON objects, comma-separated."""
    return ENCODER.encode([{name: bill[name] for name in BILL_FIELDS} for bill in bills])[1:-1]


def numbers_masked_text(text: str) -> str:
    """JSON `text` with every account number cut to its last four, as
    `account_numbers_masked` cuts them, worked on the text itself: each key ending in "number"
    is found by a string search and only its value is decoded, so a payload (megabytes) is
    never decoded and encoded again. Inside a JSON string a quote is always escaped, so
    `number":` can only end a key."""
    lower = text.lower()
    parts, done = [], 0
    found = lower.find(_KEY_END)
    while found != -1:
        key_start = text.rfind('"', 0, found)
        value_start = found + len(_KEY_END)
        while text[value_start : value_start + 1].isspace():
            value_start += 1
        if text[key_start - 1] == "\\" or "\\" in text[key_start:found]:
            # An escaped quote in the key: the slow, sure way.
            return ENCODER.encode(account_numbers_masked(json.loads(text)))
        number, value_end = _DECODER.raw_decode(text, value_start)
        if isinstance(number, (dict, list)):
            return ENCODER.encode(account_numbers_masked(json.loads(text)))
        masked = account_numbers_masked({"number": number})["number"]
        parts += [text[done:value_start], ENCODER.encode(masked)]
        done = value_end
        found = lower.find(_KEY_END, value_end)
    parts.append(text[done:])
    return "".join(parts)
