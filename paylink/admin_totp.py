"""Staff's authenticator for the admin: its QR code, and the page where staff set up their own.

The QR code holds the device's otpauth:// URL (django-otp's `config_url`, with the site as issuer,
OTP_TOTP_ISSUER), drawn by segno: as SVG on the page, as text blocks in a terminal.

A new authenticator replaces the old only once a code from it is entered, so a half-finished
setup never locks anyone out.
"""

from __future__ import annotations

import io
import uuid

import segno
from django.contrib import messages
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

PENDING_SESSION_KEY = "paylink_totp_pending"
DEVICE_NAME = "admin"


def _qr(device: TOTPDevice) -> segno.QRCode:
    return segno.make(device.config_url, error="m")


def totp_qr_svg(device: TOTPDevice) -> SafeString:
    """The device's QR code as inline SVG. segno writes only numbers and fixed words into it."""
    svg = _qr(device).svg_inline(scale=5, title=_("QR code for your authenticator app"))
    return mark_safe(svg)  # noqa: S308 (segno's own markup: no text from a person in it)


def totp_qr_terminal(device: TOTPDevice) -> str:
    """The QR code in block characters, dark on light, for a terminal."""
    out = io.StringIO()
    _qr(device).terminal(out=out, compact=True)
    return out.getvalue()


def totp_qr_svg_file(device: TOTPDevice, path: str) -> None:
    _qr(device).save(path, kind="svg", scale=5)


def totp_device_replace(*, user: User) -> TOTPDevice:
    """A new confirmed device for the command line, in place of the user's earlier ones."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)


def _code_refusal(device: TOTPDevice, code: str) -> str:
    """Why a code does not confirm the device; empty when it does."""
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return _("Enter the six digits the app shows, without spaces.")
    # django-otp waits longer after each wrong code; say so rather than "wrong" again.
    allowed, _extra = device.verify_is_allowed()
    if not allowed:
        return _("For safety, wait a few seconds after a wrong code, then enter the newest one.")
    if not device.verify_token(code):
        return _("That code is not right. Enter the newest six-digit code the app shows.")
    return ""


def _pending(request: HttpRequest) -> TOTPDevice | None:
    pk = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(pk, int):
        return None
    return TOTPDevice.objects.filter(pk=pk, user=request.user, confirmed=False).first()


def authenticator_view(request: HttpRequest, *, site_context: dict[str, object]) -> HttpResponse:
    """Staff set up (or replace) the authenticator they sign in to the admin with."""
    user = request.user
    pending = _pending(request)
    error = ""
    if request.method == "POST":
        if "start" in request.POST:
            # One unfinished setup at a time: a new one replaces any earlier unconfirmed device.
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            pending = TOTPDevice.objects.create(
                user=user, name=f"{DEVICE_NAME}-{uuid.uuid4().hex[:8]}", confirmed=False
            )
            request.session[PENDING_SESSION_KEY] = pending.pk
            return redirect("admin:paylink-authenticator")
        if "cancel" in request.POST:
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            request.session.pop(PENDING_SESSION_KEY, None)
            return redirect("admin:paylink-authenticator")
        if pending is not None:
            error = _code_refusal(pending, request.POST.get("code", ""))
            if not error:
                with transaction.atomic():
                    TOTPDevice.objects.filter(user=user).exclude(pk=pending.pk).delete()
                    pending.confirmed = True
                    pending.name = DEVICE_NAME
                    pending.save(update_fields=["confirmed", "name"])
                request.session.pop(PENDING_SESSION_KEY, None)
                # This session goes on as verified with the new device, under a new key.
                request.session.cycle_key()
                otp_login(request, pending)
                messages.success(
                    request, _("Your new authenticator is set up. Use its codes from now on.")
                )
                return redirect("admin:paylink-authenticator")
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    context = {
        **site_context,
        "title": _("Your authenticator"),
        "has_device": confirmed is not None,
        "pending": pending,
        "qr_svg": totp_qr_svg(pending) if pending else "",
        "secret": _grouped_secret(pending) if pending else "",
        "error": error,
    }
    return TemplateResponse(request, "admin/paylink/authenticator.html", context)


def _grouped_secret(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for typing into an app that cannot scan."""
    from base64 import b32encode

    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))
