"""The request the host's signed-in views are written for.

Every view needs a signed-in person unless it says `@login_not_required` (Django's
LoginRequiredMiddleware), and django-htmx's middleware sets `request.htmx` on every request. A
view behind sign-in annotates its request as `AuthedHttpRequest`, so the type checker knows
`request.user` is a `User` (not the anonymous one) and that `request.htmx` is there.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class AuthedHttpRequest(HttpRequest):
    user: User
    htmx: HtmxDetails
