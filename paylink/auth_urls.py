from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from paylink.lib.rate_limits import rate_limited
from paylink.views import account_settings, auth

# Django's own views, except sign-in (throttled) and sign-up (ours). Each POST that sends mail
# or checks a password is rate-limited per address (and reset mail per email too).
urlpatterns = [
    path("login/", rate_limited("sign_in")(auth.LoginView.as_view()), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", auth.signup, name="signup"),
    # Django's view (login required, passwords kept out of error reports), with the old
    # password checked behind the sign-in throttle.
    path(
        "password_change/",
        account_settings.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "password_reset/",
        rate_limited("password_reset", "password_reset_email")(auth.PasswordResetView.as_view()),
        name="password_reset",
    ),
    path(
        "password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
