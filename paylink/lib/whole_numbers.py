"""Whole numbers written by a client (query parameters, form fields, headers): ASCII digits only.

`str.isdigit()` is true for "²", "③" or "١٢" and `int()` reads Arabic-Indic digits, spaces,
signs and underscores ("+1_2 " is 12): a check with one and a conversion with the other answered
500, and either alone lets through numbers no person typed. A bounded count of 0-9 is the one
shape accepted; the bound also keeps a number the database cannot store out.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

MAX_DIGITS = 15


def whole_number(value: str | None, *, max_digits: int = MAX_DIGITS) -> int | None:
    """`value` as an int when it is 1 to `max_digits` ASCII digits and nothing else; else None."""
    if not isinstance(value, str) or len(value) > max_digits:
        return None
    return int(value) if re.fullmatch(r"[0-9]+", value) else None


class WholeNumberField(forms.IntegerField):
    """A form's IntegerField that accepts ASCII digits only (surrounding spaces stripped)."""

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        number = whole_number(str(value).strip())
        if number is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return number
