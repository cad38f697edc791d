"""The one body-size guard of the views that read raw bodies (SDK events, webhooks)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from paylink.lib.request_body import body_declared_too_large, body_length_unreadable, body_read


def _request(body: bytes, *, length: str | None = None):
    request = RequestFactory().generic("POST", "/", body, content_type="application/json")
    if length is not None:
        request.META["CONTENT_LENGTH"] = length
    return request


def test_a_body_at_the_limit_is_read_whole():
    request = _request(b"x" * 10)
    assert not body_declared_too_large(request, limit=10)
    assert body_read(request, limit=10) == b"x" * 10


def test_a_declared_length_over_the_limit_is_refused_before_reading():
    assert body_declared_too_large(_request(b"x" * 11), limit=10)


@pytest.mark.parametrize("length", ["²", "١٢", "+12", "1_2", "-1"])
def test_a_declared_length_that_is_not_ascii_digits_is_unreadable_not_too_large(length):
    request = _request(b"{}", length=length)
    assert body_length_unreadable(request)
    assert not body_declared_too_large(request, limit=10)


def test_a_declared_whole_number_is_readable():
    assert not body_length_unreadable(_request(b"{}", length="2"))
    assert not body_length_unreadable(_request(b"{}"))


def test_a_body_past_the_limit_is_not_read_whole():
    # What the reader sees when the declared length lied (or was missing): more than allowed.
    assert body_read(_request(b"x" * 100_000), limit=10) is None
