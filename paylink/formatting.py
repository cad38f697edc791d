"""How the host writes values for people: money, days, months, times, masks and Atomic's
words, one way per language and in the person's time zone. Templates (through the
`paylink_format` tags), emails and the calendar feed all import from here.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from django.utils import formats, timezone
from django.utils.timesince import timesince
from django.utils.translation import get_language, gettext, pgettext, pgettext_lazy

MISSING = "—"
MASK = "••••"
_CENT = Decimal("0.01")


def money(value: Decimal | None) -> str:
    """US dollars in the active language's number format ("$1,234.56", "1 234,56 US$"); a
    missing amount is a dash, not $0.00."""
    if value is None:
        return MISSING
    return _money_text(Decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP), get_language())


@lru_cache(maxsize=4096)
def _money_text(amount: Decimal, language: str | None) -> str:
    # Cached for the same reason as _day_text; the language is part of the key because
    # both the separators and the place of the symbol follow it.
    number = formats.number_format(abs(amount), 2, use_l10n=True, force_grouping=True)
    return pgettext(
        # Translators: an amount in US dollars. Spanish puts the symbol after the number.
        "money",
        "%(sign)s$%(amount)s",
    ) % {"sign": "-" if amount < 0 else "", "amount": number}


def day(value: date | datetime | None) -> str:
    """A day with its year ("Dec 20, 2026", "20 dic 2026"): an instant on the day it falls on
    in the person's time zone, a date (already theirs, as a bill's due day) as it is."""
    if value is None:
        return MISSING
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return _day_text(value, get_language())


@lru_cache(maxsize=1024)
def _day_text(local_day: date, language: str | None) -> str:
    # Formatting is slow next to a lookup, and a page shows the same few days many times over.
    # The format is the catalogue's, so each language orders day and month its own way.
    return formats.date_format(local_day, pgettext("date format of a bill's day", "M j, Y"))


@lru_cache(maxsize=256)
def _month_text(local_day: date, language: str | None) -> str:
    return formats.date_format(local_day, "M")


def ago(value: datetime | None) -> str:
    """ "just now" under a minute, else Django's "N minutes ago" wording."""
    if value is None:
        return MISSING
    if timezone.now() - value < timedelta(minutes=1):
        return gettext("just now")
    return gettext("%(time)s ago") % {"time": timesince(value)}


def last_four(value: str | None) -> str:
    """An account number as its last four digits only: the full number never reaches a page."""
    text = (value or "").strip()
    if not text:
        return MISSING
    return f"{MASK} {text[-4:]}" if len(text) > 4 else MASK


def mask_name(value: str | None) -> str:
    """The first letter and a mask: enough to recognise, not enough to copy."""
    text = (value or "").strip()
    return f"{text[0]}•••" if text else ""


def mask_email(value: str | None) -> str:
    text = (value or "").strip()
    local, at, domain = text.partition("@")
    if not at:
        return mask_name(text)
    return f"{local[:1]}•••@{domain}"


def mask_phone(value: str | None) -> str:
    digits = "".join(c for c in (value or "") if c.isdigit())
    return f"{MASK} {digits[-4:]}" if len(digits) > 4 else (MASK if digits else "")


def masked_holder(*, first_name: str, last_name: str, email: str, phone: str) -> str:
    """An account holder as masks only ("t••• s••• · t•••@email.com · •••• 5309")."""
    parts = []
    if first_name or last_name:
        parts.append(f"{mask_name(first_name)} {mask_name(last_name)}")
    if email:
        parts.append(mask_email(email))
    if phone:
        parts.append(mask_phone(phone))
    return " · ".join(parts)


def humanise(value: str | None) -> str:
    """An enum value from Atomic as words; unknown values stay readable instead of failing."""
    text = (value or "").strip().replace("-", " ").replace("_", " ")
    return text[:1].upper() + text[1:] if text else MISSING


# Atomic's values that the dashboard names, in the reader's language; a value not listed
# (Atomic's lists are open) is shown as humanise() reads it.
_WORDS = {
    ("account type", "subscription"): pgettext_lazy("account type", "Subscription"),
    ("account type", "telecom"): pgettext_lazy("account type", "Phone and internet"),
    ("account type", "policy"): pgettext_lazy("account type", "Insurance policy"),
    ("account type", "insurance"): pgettext_lazy("account type", "Insurance"),
    ("account type", "loan"): pgettext_lazy("account type", "Loan"),
    ("account type", "utility"): pgettext_lazy("account type", "Utility"),
    ("account type", "credit-card"): pgettext_lazy("account type", "Credit card"),
    ("action", "change-plan"): pgettext_lazy("action", "Change plan"),
    ("action", "cancel-plan"): pgettext_lazy("action", "Cancel plan"),
    ("action", "pause-plan"): pgettext_lazy("action", "Pause plan"),
    ("action", "resume-plan"): pgettext_lazy("action", "Resume"),
    ("action", "view-account"): pgettext_lazy("action", "View account"),
    ("action", "refresh"): pgettext_lazy("action", "Refresh"),
    ("action", "connect-account"): pgettext_lazy("action", "Connect account"),
    ("action", "disconnect-account"): pgettext_lazy("action", "Disconnect account"),
    ("action", "switch"): pgettext_lazy("action", "Switch payment method"),
    ("plan status", "active"): pgettext_lazy("plan status", "Active"),
    ("plan status", "paused"): pgettext_lazy("plan status", "Paused"),
    ("plan status", "cancelled"): pgettext_lazy("plan status", "Cancelled"),
    ("plan status", "canceled"): pgettext_lazy("plan status", "Cancelled"),
    ("plan status", "pending"): pgettext_lazy("plan status", "Pending"),
    ("plan status", "trial"): pgettext_lazy("plan status", "Trial"),
    ("autopay", "enabled"): pgettext_lazy("autopay", "On"),
    ("autopay", "disabled"): pgettext_lazy("autopay", "Off"),
    ("cycle", "daily"): pgettext_lazy("billing cycle", "daily"),
    ("cycle", "weekly"): pgettext_lazy("billing cycle", "weekly"),
    ("cycle", "biweekly"): pgettext_lazy("billing cycle", "every two weeks"),
    ("cycle", "semimonthly"): pgettext_lazy("billing cycle", "twice a month"),
    ("cycle", "monthly"): pgettext_lazy("billing cycle", "monthly"),
    ("cycle", "bimonthly"): pgettext_lazy("billing cycle", "every two months"),
    ("cycle", "quarterly"): pgettext_lazy("billing cycle", "quarterly"),
    ("cycle", "semiannual"): pgettext_lazy("billing cycle", "twice a year"),
    ("cycle", "semiannually"): pgettext_lazy("billing cycle", "twice a year"),
    ("cycle", "annual"): pgettext_lazy("billing cycle", "yearly"),
    ("cycle", "annually"): pgettext_lazy("billing cycle", "yearly"),
    ("cycle", "yearly"): pgettext_lazy("billing cycle", "yearly"),
    ("change", "status-update"): pgettext_lazy("pending change", "Status change"),
    ("change", "plan-change"): pgettext_lazy("pending change", "Plan change"),
    ("change", "price-change"): pgettext_lazy("pending change", "Price change"),
    ("change", "cancellation"): pgettext_lazy("pending change", "Cancellation"),
}


def account_type(value: str | None) -> str:
    return words_for("account type", value)


def month(value: date | None) -> str:
    """A month and its year ("October 2024", "octubre de 2024")."""
    if value is None:
        return MISSING
    return _year_month_text(value, get_language())


@lru_cache(maxsize=256)
def _year_month_text(first_day: date, language: str | None) -> str:
    return formats.date_format(first_day, "YEAR_MONTH_FORMAT")


def words_for(kind: str, value: str | None) -> str:
    """An Atomic value of `kind` ("account type", "action", ...) as the reader's words."""
    return _words_text(kind, value or "", get_language())


@lru_cache(maxsize=1024)
def _words_text(kind: str, value: str, language: str | None) -> str:
    # A card names several of these; the catalogue lookup behind each lazy string costs more
    # than the rest of the card's words.
    known = _WORDS.get((kind, value.strip().lower()))
    return str(known) if known is not None else humanise(value)


def pending_change_words(
    *,
    type: str,
    status: str,
    title: str,
    amount: Decimal | None,
    start: datetime | None,
    end: datetime | None,
) -> str:
    """What a plan's pending change does and when, in the reader's words: "Paused (Premium
    Subscription, $22.99) from Nov 20, 2024 until Dec 20, 2024"."""
    text = words_for("plan status", status) if status else words_for("change", type)
    detail = ", ".join(part for part in (title, "" if amount is None else money(amount)) if part)
    if detail:
        text = f"{text} ({detail})"
    if start is not None:
        text += " " + gettext("from %(day)s") % {"day": day(start)}
    if end is not None:
        text += " " + gettext("until %(day)s") % {"day": day(end)}
    return text


def short_day(value: date | datetime | None) -> str:
    """A day without its year ("Dec 20", "20 dic"), for "Paused until Dec 20"."""
    if value is None:
        return MISSING
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return _short_day_text(value, get_language())


@lru_cache(maxsize=1024)
def _short_day_text(local_day: date, language: str | None) -> str:
    return formats.date_format(local_day, pgettext("date format of a day without its year", "M j"))


def local_day(value: datetime) -> date:
    """The day an instant falls on in the active (the person's) time zone."""
    return timezone.localtime(value).date()


def clock(value: datetime | None) -> str:
    """A time of day in the person's time zone, in the language's format."""
    if value is None:
        return MISSING
    return formats.time_format(timezone.localtime(value), "TIME_FORMAT")


def words_for_action(*, action_type: str, bill_name: str = "") -> str:
    """An action's label, by its bill where the account names its bills ("Cancel Apple TV+")."""
    if not bill_name:
        return words_for("action", action_type)
    label = _BILL_ACTIONS.get(action_type.strip().lower())
    if label is None:
        return f"{words_for('action', action_type)}: {bill_name}"
    return str(label) % {"bill": bill_name}


_BILL_ACTIONS = {
    "change-plan": pgettext_lazy("action on a named bill", "Change %(bill)s"),
    "cancel-plan": pgettext_lazy("action on a named bill", "Cancel %(bill)s"),
    "pause-plan": pgettext_lazy("action on a named bill", "Pause %(bill)s"),
    "resume-plan": pgettext_lazy("action on a named bill", "Resume %(bill)s"),
}


# Time zones a person may pick or a browser may report: the IANA names this system knows.
@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """Every IANA time zone name available here, sorted: the choices of a time zone field."""
    return tuple(sorted(zoneinfo.available_timezones()))


def time_zone_valid(name: str) -> str | None:
    """`name` when it is an IANA time zone this system knows ("Europe/Madrid"), else None.

    The one check for a time zone from a browser or a form (a settings field can call it).
    """
    name = (name or "").strip()
    if not name or len(name) > 64 or name not in time_zones():
        return None
    return name


def time_zone_for(name: str) -> tzinfo | None:
    valid = time_zone_valid(name)
    return zoneinfo.ZoneInfo(valid) if valid else None


def month_abbr(value: date) -> str:
    """A month's short name ("Oct", "oct"), for a chart's axis."""
    return _month_text(value, get_language())


def cycle_words(cycle: str) -> str:
    """A billing cycle in the reader's words ("monthly", "mensual")."""
    known = _WORDS.get(("cycle", cycle.strip().lower().replace("-", "").replace(" ", "")))
    return str(known) if known is not None else humanise(cycle).lower()
