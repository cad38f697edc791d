"""Sign-in with a failure throttle, and sign-up when the deployment allows it; both rate-limited."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from paylink.forms import SignupForm, ThrottledAuthenticationForm
from paylink.lib.rate_limits import rate_limit_give_back, rate_limited
from paylink.services.profiles import profile_settings_update


def throttled_answer(response: HttpResponse, form: object) -> HttpResponse:
    """A sign-in refused by the throttle answers 429 with Retry-After; the form says why."""
    block = getattr(form, "block", None)
    if block is not None:
        response.status_code = 429
        response["Retry-After"] = str(block.retry_after)
    return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, with the link in the email built from PAYLINK_SITE_URL: never from the Host
    header, which whoever asks for the reset chooses."""

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        self.extra_email_context = {"site_url": settings.PAYLINK_SITE_URL}
        return super().form_valid(form)


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        # A deep admin link sent here by LoginRequiredMiddleware goes to the admin's own
        # sign-in, which asks for the staff code too; this one could never open the admin.
        target = self.get_redirect_url()
        if target.startswith(reverse("admin:index")) and not request.user.is_authenticated:
            return redirect(f"{reverse('admin:login')}?{urlencode({'next': target})}")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context["signup_enabled"] = settings.PAYLINK_SIGNUP_ENABLED
        return context

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        # The per-address budget counts failed sign-ins only: a whole office signing in behind
        # one address must not use it up.
        rate_limit_give_back(name="sign_in", request=self.request)
        return super().form_valid(form)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        return throttled_answer(super().form_invalid(form), form)


@login_not_required
@sensitive_post_parameters("password1", "password2")
@never_cache
@rate_limited("sign_up")
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.PAYLINK_SIGNUP_ENABLED:
        raise Http404("Sign-up is not open.")
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignupForm(request.POST or None, initial={"language": get_language()})
    if request.method == "POST" and form.is_valid():
        user = form.save()
        # Saved before sign-in, which then serves this session in it (paylink/language.py), and
        # read by the emails and the calendar feed.
        profile_settings_update(
            user=user,
            first_name=user.first_name,
            last_name=user.last_name,
            language=form.cleaned_data["language"] or get_language(),
            time_zone=form.cleaned_data["time_zone"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, gettext("Welcome! Your account is ready."))
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "registration/signup.html", {"form": form})
