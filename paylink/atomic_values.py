"""What the host knows of Atomic's values wherever they arrive (API answers, webhooks, the
browser): the shape of its ids, where a task says why it failed, which fields are account
numbers. Reading JSON itself is paylink/lib/vendor_json.py's, and knows nothing of Atomic.
"""

from __future__ import annotations

import re
from typing import Any

from paylink.lib.vendor_json import dig, text

# Atomic's ids (tasks, users, accounts) are 24-hex-digit ObjectIds today. Letters, digits, "_"
# and "-" up to 64 (the columns' size) also admit a UUID or a prefixed id should Atomic change
# scheme, and exclude everything that could move a URL path ("/", ".", "%"), break a header or
# a log line, or that a database refuses (NUL, lone surrogates).
ATOMIC_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def atomic_id(value: object) -> str | None:
    """`value` when it is a string shaped like one of Atomic's ids, else None."""
    if isinstance(value, str) and ATOMIC_ID.fullmatch(value):
        return value
    return None


def fail_reason(task: object, limit: int = 100) -> str:
    """Why a task failed: `failReason` in Atomic's API reference, `reason` in its PayLink
    webhooks. Either is read wherever a task's failure is; "" when neither is there."""
    return text(dig(task, "failReason"), limit) or text(dig(task, "reason"), limit)


def _last_four(value: Any) -> Any:
    if value is None or value == "":
        return value
    return f"••••{str(value)[-4:]}"


def account_numbers_masked(value: Any) -> Any:
    """`value` with every account number (a key ending in "number") cut to its last four
    characters: what the host stores or hands out of Atomic's data never holds a whole one."""
    if isinstance(value, dict):
        return {
            key: _last_four(item)
            if isinstance(key, str) and key.lower().endswith("number")
            else account_numbers_masked(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [account_numbers_masked(item) for item in value]
    return value
