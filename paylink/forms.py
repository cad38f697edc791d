"""Sign-in (the site's and the admin's, all throttled) and sign-up forms."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminAuthenticationForm
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from paylink.account_forms import EMAIL_HELP, language_field, time_zone_field
from paylink.lib.client_address import client_address
from paylink.lib.login_throttle import LoginBlock, login_attempt_begin, login_attempt_succeeded


class ThrottledSignInMixin(AuthenticationForm):
    """Takes a try from the throttle before any password (or admin code) is checked.

    A failure keeps the try taken; a success gives it back. `block` says why a try was refused,
    so the view can answer 429 with Retry-After.
    """

    block: LoginBlock | None = None

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        if not (username and self.cleaned_data.get("password")):
            return super().clean()
        address = client_address(self.request) if self.request else "unknown"
        # Taken before the password is checked, so a blocked guesser learns nothing more.
        self.block = login_attempt_begin(username=username, address=address)
        if self.block is not None:
            raise forms.ValidationError(self.block.message, code="throttled")
        cleaned = super().clean()
        login_attempt_succeeded(username=username, address=address)
        return cleaned


class ThrottledAuthenticationForm(ThrottledSignInMixin, AuthenticationForm):
    """Django's sign-in form behind the throttle."""


class ThrottledAdminAuthenticationForm(ThrottledSignInMixin, AdminAuthenticationForm):
    """The admin's sign-in form behind the same throttle, so it is no way around it."""


class ThrottledOTPAdminAuthenticationForm(ThrottledSignInMixin, OTPAdminAuthenticationForm):
    """The admin's sign-in with a one-time code; a wrong code counts as a failure too.

    One plain form: username, password and the six-digit code. Staff hold one device, so there
    is no device to pick and no challenge to ask for (django-otp's SMS-style button).
    """

    otp_device = None
    otp_challenge = None
    otp_token = forms.CharField(
        label=_("Six-digit code"),
        required=False,
        max_length=6,
        help_text=_("From the authenticator app on your phone."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9]{6}",
                "maxlength": "6",
            }
        ),
    )
    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "token_required": _("Enter the six-digit code from your authenticator app."),
        "invalid_token": _(
            "That code is not right. Check the time on your phone and enter the newest code."
        ),
        "n_failed_attempts": _(
            "That code is not right. For safety, wait a few seconds before entering the newest "
            "code."
        ),
        "verification_not_allowed": _("Codes cannot be checked right now. Try again shortly."),
        "device_required": _(
            "Your account has no authenticator set up. Ask another staff member to run "
            "manage.py paylink_admin_totp for you."
        ),
    }

    def _chosen_device(self, user: User) -> Device | None:
        device = super()._chosen_device(user)
        if device is None:
            # Staff hold one TOTP device (manage.py paylink_admin_totp), so a code alone says
            # which: one form, one submission, one try taken from the throttle.
            devices = list(
                TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True)[:2]
            )
            device = devices[0] if len(devices) == 1 else None
        return device


class SignupForm(UserCreationForm):
    """Sign-up in plain words, with the same name, language and time zone fields as the
    account settings (paylink/account_forms.py)."""

    email = forms.EmailField(
        label=_("Email"),
        required=False,
        help_text=EMAIL_HELP,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    language = language_field()
    time_zone = time_zone_field()

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "first_name", "last_name", "email")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Django's developer help (its validator list, "150 characters or fewer...") replaced
        # by what a person needs to know.
        self.fields["username"].help_text = _(
            "You will use it to sign in. Letters, numbers and . @ + - _ only."
        )
        self.fields["password1"].help_text = _(
            "At least 8 characters. Not only numbers, and not a common password."
        )
        self.fields["password2"].label = _("Password again")
        self.fields["password2"].help_text = _("The same password, to be sure it is typed right.")
        # Preset to the language the page is in; left out, it is that language too.
        cast(forms.ChoiceField, self.fields["language"]).choices = list(settings.LANGUAGES)
        self.order_fields(
            [
                "username",
                "first_name",
                "last_name",
                "email",
                "password1",
                "password2",
                "language",
                "time_zone",
            ]
        )


class AccountDeleteForm(forms.Form):
    """Deleting an account asks for the password again: a borrowed session is not enough.

    The check draws on the sign-in throttle like a sign-in does (the same pair and address
    counters), so a borrowed session is no way to guess the password faster; `block` says why a
    try was refused, for a 429 with Retry-After.
    """

    block: LoginBlock | None = None

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, user: User, address: str = "unknown", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.address = address

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        username = self.user.get_username()
        self.block = login_attempt_begin(username=username, address=self.address)
        if self.block is not None:
            raise forms.ValidationError(self.block.message, code="throttled")
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password."), code="password_incorrect")
        login_attempt_succeeded(username=username, address=self.address)
        return password
