"""A JSON column kept as its text: PostgreSQL's `json`, which checks the text and stores it as
it came, instead of `jsonb`, which parses it into a tree and writes that.

For values written whole and read whole, never queried inside: a 5,000-account payload is
megabytes, and parsing it into jsonb cost PostgreSQL a quarter of a second at every sync that
changed it, and converting it back to text, again, at every read. Elsewhere (SQLite) the column
is what Django's JSONField makes, text already.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, models
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper


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


def json_text_write(*, model: type[models.Model], pk: Any, field_name: str, text: str) -> None:
    """Write `text`, JSON encoded already, as it is into one row's JsonTextField, in one
    UPDATE (no signal is sent: the caller's own update of the row's other columns says what
    changed).

    On PostgreSQL the text goes as a parameter bound on the server. Django's cursors bind on
    the client, quoting every value into the statement: megabytes of payload are then a
    literal the server scans as SQL before it checks them as JSON, twice the time."""
    field = model._meta.get_field(field_name)
    key = model._meta.pk
    assert isinstance(field, JsonTextField) and key is not None  # a model's own column and key
    column, where = field.column, key.column
    assert column and where  # concrete fields, each with its column
    quote = connection.ops.quote_name
    cast = "::json" if connection.vendor == "postgresql" else ""
    # Names from the model's own metadata, quoted; the values go as parameters.
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {quote(column)} = %s{cast}"  # noqa: S608
        f" WHERE {quote(where)} = %s"
    )
    with _bound_cursor() as cursor:
        cursor.execute(sql, [text, pk])


def _bound_cursor() -> CursorWrapper:
    """A cursor of the connection's, in its transaction and seen by its query log and
    wrappers as any other, that binds parameters on the server where the database can."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    import psycopg

    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    # What the connection's own make_cursor and make_debug_cursor wrap a cursor in.
    if connection.queries_logged:
        return CursorDebugWrapper(raw, connection)
    return CursorWrapper(raw, connection)
