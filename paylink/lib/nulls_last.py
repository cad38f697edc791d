"""An index that may hold `expression DESC NULLS LAST` on every database."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import OrderBy


class NullsLastIndex(models.Index):
    """An index of expressions, of which the descending, nulls-last ones (`F(...).desc(
    nulls_last=True)`) are written so on PostgreSQL, whose descending order puts nulls first:
    only an index that says so serves an ORDER BY that does. SQLite refuses the words in an
    index and needs none (its descending order puts nulls last already): it is given plain
    descending ones."""

    def create_sql(self, model: Any, schema_editor: Any, using: str = "", **kwargs: Any) -> Any:
        if schema_editor.connection.vendor != "sqlite":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        plain = models.Index(
            *(
                OrderBy(e.expression, descending=True)
                if isinstance(e, OrderBy) and e.descending and e.nulls_last
                else e
                for e in self.expressions
            ),
            name=self.name,
            db_tablespace=self.db_tablespace,
            opclasses=self.opclasses,
            condition=self.condition,
            include=self.include,
        )
        return plain.create_sql(model, schema_editor, using=using, **kwargs)
