"""A model row as the shared cache keeps it: a plain dict of its columns, never a pickled model
instance, under a key that names the columns' shape (each column's name and kind).

A deploy that changes the model then reads none of what the release before it stored, and no
process ever unpickles an instance of a class that has changed under it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import models


def row_shape(model: type[models.Model]) -> str:
    """Twelve hex digits that change whenever a column of `model` is added, removed or retyped."""
    columns = " ".join(f"{f.attname}:{type(f).__name__}" for f in model._meta.concrete_fields)
    return hashlib.sha256(columns.encode()).hexdigest()[:12]


def row_dump(instance: models.Model) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def row_load[M: models.Model](model: type[M], row: dict[str, Any]) -> M:
    """The instance `row_dump` described, as if just read from the database."""
    names = [f.attname for f in model._meta.concrete_fields]
    return model.from_db(None, names, [row[name] for name in names])
