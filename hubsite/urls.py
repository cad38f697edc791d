from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from paylink.language import set_language

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("paylink.auth_urls")),
    # Open to everyone: the sign-in page has the switcher too, and the catalogue is no secret.
    path("i18n/setlang/", set_language, name="set_language"),
    # Only the host's own strings (locale/), not every installed app's.
    path(
        "jsi18n/",
        login_not_required(JavaScriptCatalog.as_view(packages=["paylink"])),
        name="javascript-catalog",
    ),
    path("", include("paylink.urls")),
    path("", include("reminders.urls")),
]

# A sentence in the person's language for any unhandled error; 503 when the database or Redis
# is unreachable (paylink/views/errors.py).
handler500 = "paylink.views.errors.server_error"
