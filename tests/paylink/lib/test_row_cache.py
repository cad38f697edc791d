"""Rows in the shared cache: plain dicts of columns under a key naming their shape."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from paylink.lib.row_cache import row_dump, row_load, row_shape
from tests.people import person_create

pytestmark = pytest.mark.django_db


def test_a_row_comes_back_as_it_went_in():
    alice = person_create("alice")
    loaded = row_load(User, row_dump(alice))
    assert row_dump(loaded) == row_dump(alice)
    # As if read from the database: saving it updates the row rather than adding one.
    assert not loaded._state.adding
    loaded.first_name = "Alicia"
    loaded.save()
    assert User.objects.get().first_name == "Alicia"


def test_the_shape_changes_with_the_columns(monkeypatch):
    before = row_shape(User)
    assert row_shape(User) == before
    monkeypatch.setattr(User._meta, "concrete_fields", User._meta.concrete_fields[:-1])
    assert row_shape(User) != before
