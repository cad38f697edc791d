"""A JSON column kept as its text: PostgreSQL's `json`, which checks the text and stores it as
it came, instead of `jsonb`, which parses it into a tree and writes that.

For values written whole and read whole, never queried inside: a 5,000-account payload is
megabytes, and parsing it into jsonb cost PostgreSQL a quarter of a second at every sync that
changed it, and converting it back to text, again, at every read. Elsewhere (SQLite) the column
is what Django's JSONField makes, text already.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class JsonTextField(models.JSONField):
    """Django's JSONField, in a `json` column on PostgreSQL."""

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        # psycopg reads a `json` column into Python values itself (Django has it hand over
        # jsonb's text only): those are the value already.
        if value is None or isinstance(value, str):
            return super().from_db_value(value, expression, connection)
        return value
