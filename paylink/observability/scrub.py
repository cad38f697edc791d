"""What never leaves the process in a log line or an error report: the host's secrets, anything
that looks like a token or password, and whole account numbers (the last four digits stay).

One rule, used by the JSON log formatter and by Sentry's `before_send`, so both hide the same.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

REDACTED = "[redacted]"

# Keys whose values are credentials, wherever they appear (headers, bodies, local variables).
_SECRET_KEY_WORDS = (
    "secret",
    "token",
    "password",
    "passwd",
    "cookie",
    "authorization",
    "api_key",
    "api-key",
    "apikey",
    "session",
    "csrf",
    "signature",
    "dsn",
)
# Digit runs as long as a card or bank account number (8 to 19 digits, alone or in groups of
# four split by spaces or dashes): all but the last four are masked. Dates, times and UUIDs are
# not such runs (their groups are shorter, or joined to letters and other groups).
_ACCOUNT_NUMBER = re.compile(
    r"(?<![\w.-])(?:\d{4}[ -]){1,4}\d{1,4}(?![\w.-])|(?<![\w.-])\d{8,19}(?![\w.-])"
)
# "Bearer xyz", "token=xyz", "publicToken": "xyz" inside free text; and "token xyz" when xyz
# looks like a credential (8 or more characters with a digit), not a word of a sentence.
_INLINE_SECRET = re.compile(
    r"(?i)(bearer\s+|(?:token|secret|password|api[_-]?key)[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,;]{4,})"
    r"|((?:token|secret|password|api[_-]?key)s?\s+)(?=[\w.~+/=-]*\d)([\w.~+/=-]{8,})"
)
# Settings whose values are secrets: any of them found in text is replaced.
_SECRET_SETTINGS = (
    "SECRET_KEY",
    "ATOMIC_API_KEY",
    "ATOMIC_API_SECRET",
    "ATOMIC_API_SECRET_PREVIOUS",
    "PAYLINK_METRICS_TOKEN",
)
# Shorter values are too common to replace inside text (and too weak to be real secrets).
_MIN_SECRET_CHARS = 6
_MAX_DEPTH = 20


@functools.cache
def _secret_values() -> tuple[str, ...]:
    # Read once, not once per string scrubbed: every request's log line scrubs several.
    values = [str(getattr(settings, name, "") or "") for name in _SECRET_SETTINGS]
    return tuple(sorted({v for v in values if len(v) >= _MIN_SECRET_CHARS}, key=len, reverse=True))


@receiver(setting_changed, dispatch_uid="paylink-scrub-secrets")
def _secrets_changed(*, setting: str, **kwargs: object) -> None:
    if setting in _SECRET_SETTINGS:
        _secret_values.cache_clear()


def _masked_number(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if len(digits) < 8:
        return match.group(0)
    return "•" * (len(digits) - 4) + digits[-4:]


# What either pattern above needs to match at all: four digits in a row, or one of the words.
# Most text (a route, a method, a sentence) has neither and skips both.
_MAYBE_SECRET = re.compile(r"\d{4}|bearer|token|secret|password|api[_-]?key", re.IGNORECASE)


def text_scrubbed(value: str) -> str:
    """`value` with known secrets, inline credentials and whole account numbers hidden."""
    for secret in _secret_values():
        if secret in value:
            value = value.replace(secret, REDACTED)
    if not _MAYBE_SECRET.search(value):
        return value
    value = _INLINE_SECRET.sub(lambda m: (m.group(1) or m.group(3)) + REDACTED, value)
    return _ACCOUNT_NUMBER.sub(_masked_number, value)


def key_is_secret(key: str) -> bool:
    lower = key.lower()
    return any(word in lower for word in _SECRET_KEY_WORDS)


def value_scrubbed(value: Any, *, numbers: bool = False, depth: int = 0) -> Any:
    """A copy of `value` (dicts, lists, strings) with secret keys' values replaced and every
    string scrubbed. With `numbers`, whole numbers as long as an account number are masked too
    (for a program's variables; an error report's own ids and times are left alone)."""
    if depth > _MAX_DEPTH:
        return REDACTED
    if isinstance(value, dict):
        return {
            key: REDACTED
            if isinstance(key, str) and key_is_secret(key) and value[key] not in (None, "", {}, [])
            else value_scrubbed(value[key], numbers=numbers, depth=depth + 1)
            for key in value
        }
    if isinstance(value, (list, tuple)):
        return [value_scrubbed(item, numbers=numbers, depth=depth + 1) for item in value]
    if isinstance(value, str):
        return text_scrubbed(value)
    whole = isinstance(value, int) and not isinstance(value, bool)
    if numbers and whole and len(str(abs(value))) >= 8:
        return text_scrubbed(str(value))
    return value
