"""The page's CSRF token masked by paylink/lib/csrf_token.py is Django's: its middleware accepts
it, each answer's differs, and a request without a secret yet gets one as from Django."""

from __future__ import annotations

from collections import Counter

import pytest
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_TOKEN_LENGTH,
    CsrfViewMiddleware,
    _unmask_cipher_token,
)
from django.test import RequestFactory

from paylink.lib.csrf_token import csrf_token

SECRET = "abcDEF0123456789xyzXYZ9876543210"


def with_cookie(secret: str = SECRET):
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = secret
    return request


def test_the_token_unmasks_to_the_cookies_secret_and_renews_the_cookie():
    request = with_cookie()

    token = csrf_token(request)

    assert len(token) == CSRF_TOKEN_LENGTH
    assert set(token) <= set(CSRF_ALLOWED_CHARS)
    assert _unmask_cipher_token(token) == SECRET
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True


def test_each_answer_gets_a_token_of_its_own():
    tokens = {csrf_token(with_cookie()) for _ in range(50)}

    assert len(tokens) == 50


def test_every_character_of_the_mask_comes_up():
    seen = Counter(char for _ in range(400) for char in csrf_token(with_cookie())[:32])

    assert set(seen) == set(CSRF_ALLOWED_CHARS)


@pytest.mark.django_db
def test_the_csrf_middleware_accepts_a_post_carrying_it():
    page = with_cookie()
    token = csrf_token(page)
    post = RequestFactory().post("/", {"csrfmiddlewaretoken": token})
    post.COOKIES["csrftoken"] = SECRET
    middleware = CsrfViewMiddleware(lambda request: None)
    middleware.process_request(post)

    assert middleware.process_view(post, lambda request: None, (), {}) is None

    forged = RequestFactory().post("/", {"csrfmiddlewaretoken": token})
    forged.COOKIES["csrftoken"] = "x" * 32
    middleware.process_request(forged)
    assert middleware.process_view(forged, lambda request: None, (), {}).status_code == 403


def test_without_a_secret_django_makes_one():
    request = RequestFactory().get("/")

    token = csrf_token(request)

    assert _unmask_cipher_token(token) == request.META["CSRF_COOKIE"]
