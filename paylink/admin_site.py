"""The admin site: the sign-in throttle on its login, and a one-time code for staff.

With PAYLINK_ADMIN_REQUIRE_OTP on (the default, in debug too), staff sign in to the admin with
their password and a TOTP code from a device made by `manage.py paylink_admin_totp`, and a
session that was not verified with a code does not open the admin.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from paylink.admin_operations import OperationsAdminMixin
from paylink.lib.rate_limits import rate_limited


class PaylinkAdminSite(OperationsAdminMixin, admin.AdminSite):
    site_header = _("Billfold administration")
    site_title = _("Billfold admin")
    index_title = _("Records and support tools")

    @property
    def login_form(self) -> type:  # type: ignore[override]  # a property for Django's attribute
        # Read per request, so the setting (and tests) can switch it.
        from paylink.forms import (
            ThrottledAdminAuthenticationForm,
            ThrottledOTPAdminAuthenticationForm,
        )

        if settings.PAYLINK_ADMIN_REQUIRE_OTP:
            return ThrottledOTPAdminAuthenticationForm
        return ThrottledAdminAuthenticationForm

    @property
    def login_template(self) -> str | None:  # type: ignore[override]  # as login_form
        # Django's admin sign-in page, with the six-digit code field added below the password.
        return "admin/login_with_code.html" if settings.PAYLINK_ADMIN_REQUIRE_OTP else None

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        if settings.PAYLINK_ADMIN_REQUIRE_OTP:
            # Set by django_otp's middleware: this session signed in with a code.
            return request.user.is_verified()  # type: ignore[union-attr]  # added by django_otp
        return True

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        from paylink.views.auth import throttled_answer

        view = rate_limited("sign_in")(super().login)
        response: HttpResponse = view(request, extra_context)
        if (
            request.method == "POST"
            and response.status_code == 302
            and request.user.is_authenticated
        ):
            # A step up: a session that already held a password-only sign-in (the site's own)
            # keeps its key through Django's login(); rotate it, so a key seen before the code
            # was entered never opens the admin.
            request.session.cycle_key()
        form = getattr(response, "context_data", None) or {}
        return throttled_answer(response, form.get("form"))

    def get_urls(self) -> list[URLResolver | URLPattern]:
        from paylink.admin_totp import authenticator_view

        def authenticator(request: HttpRequest) -> HttpResponse:
            return authenticator_view(request, site_context=self.each_context(request))

        return [
            path(
                "authenticator/",
                self.admin_view(authenticator),
                name="paylink-authenticator",
            ),
            *super().get_urls(),
        ]


class PaylinkAdminConfig(AdminConfig):
    default_site = "paylink.admin_site.PaylinkAdminSite"
