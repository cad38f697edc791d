"""A person's own settings: name, language, time zone, email and password.

Every form here that asks for the current password checks it behind the sign-in throttle
(paylink/lib/login_throttle.py), so a borrowed session cannot be used to guess it.
"""

from __future__ import annotations

import functools
import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.models import User
from django.forms.renderers import BaseRenderer
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from paylink.lib.client_address import client_address
from paylink.lib.login_throttle import LoginBlock, login_attempt_begin, login_attempt_succeeded

EMAIL_HELP = _(
    "Optional. We use it only to help you back in if you forget your password, and for the "
    "reminders you ask for."
)
EMAIL_USE = _(
    "We use it only to help you back in if you forget your password, and for the reminders you "
    "ask for."
)


@functools.cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone this machine knows (zoneinfo, or the tzdata package), sorted."""
    return tuple(sorted(zoneinfo.available_timezones()))


class ZoneSelect(forms.Select):
    """The time-zone select, written here: Django's template draws each of its some 600 options
    through an include of its own, and a loop in a template still takes 20 ms; this takes 2."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "\n",
            '<option value="{}"{}>{}</option>',
            (
                (option["value"], " selected" if option["selected"] else "", option["label"])
                for _group, group_options, _index in widget["optgroups"]
                for option in group_options
            ),
        )
        # In their given order, as Django's attrs.html writes them (flatatt sorts them).
        attributes = format_html_join(
            "",
            "{}",
            (
                (format_html(" {}", key) if given is True else format_html(' {}="{}"', key, given),)
                for key, given in widget["attrs"].items()
                if given is not False
            ),
        )
        return format_html('<select name="{}"{}>\n{}\n</select>', name, attributes, options)


def time_zone_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Time zone"),
        widget=ZoneSelect,
        required=False,
        # A callable: the zones are read once, on first use, not at import.
        choices=lambda: (
            [("", _("Not set (the site's time zone)"))]
            + [(name, name.replace("_", " ")) for name in time_zone_names()]
        ),
        help_text=_("Due dates and times are shown in it."),
    )


def language_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("The same as my browser")), *settings.LANGUAGES],
        help_text=_("For these pages and the emails we send you."),
    )


def password_check_throttled(*, request: HttpRequest | None, user: User, password: str) -> None:
    """Checks the current password as sign-in does: a try is taken from the throttle first,
    a failure keeps it, the right password gives it back. Raises ValidationError otherwise."""
    address = client_address(request) if request is not None else "unknown"
    block = login_attempt_begin(username=user.get_username(), address=address)
    if block is not None:
        raise ThrottledPassword(block)
    if not user.check_password(password):
        raise forms.ValidationError(
            _("That is not your current password."), code="password_incorrect"
        )
    login_attempt_succeeded(username=user.get_username(), address=address)


class ThrottledPassword(forms.ValidationError):
    """The password was not checked: too many wrong ones lately. Carries when to try again."""

    def __init__(self, block: LoginBlock) -> None:
        super().__init__(block.message, code="throttled")
        self.block = block


class ProfileSettingsForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    language = language_field()
    time_zone = time_zone_field()


class EmailChangeForm(forms.Form):
    """A new address, and the password: the address only changes once its link is opened."""

    email = forms.EmailField(
        label=_("New email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=EMAIL_USE,
    )
    password = forms.CharField(
        label=_("Your current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, user: User, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.request = request
        self.block: LoginBlock | None = None

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if email.casefold() == (self.user.email or "").casefold():
            raise forms.ValidationError(_("That is already your email address."), code="same")
        return email

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        try:
            password_check_throttled(request=self.request, user=self.user, password=password)
        except ThrottledPassword as refused:
            self.block = refused.block
            raise
        return password


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """Django's password change, with the old password checked behind the sign-in throttle."""

    def __init__(self, user: User, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.request = request
        self.block: LoginBlock | None = None
        self.fields["old_password"].label = _("Your current password")
        self.fields["new_password1"].help_text = _(
            "At least 8 characters. Not only numbers, and not a common password."
        )
        self.fields["new_password2"].label = _("New password again")
        self.fields["new_password2"].help_text = _(
            "The same password, to be sure it is typed right."
        )

    def clean_old_password(self) -> str:
        old_password = self.cleaned_data["old_password"]
        try:
            password_check_throttled(request=self.request, user=self.user, password=old_password)
        except ThrottledPassword as refused:
            self.block = refused.block
            raise
        return old_password
