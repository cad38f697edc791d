"""Settings for the Payments Hub host.

One flat module. Every value comes from the environment (or `.env`) through a typed
django-environ reader, so a bad value stops start-up instead of surfacing at 3 a.m.
`.env.example` explains each one.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
# Local state (SQLite databases, collected static files); ignored by git.
(BASE_DIR / "var" / "staticfiles").mkdir(parents=True, exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
TESTING = env.bool("PAYLINK_TESTING", default=False)

# Ports of the two local processes; each side derives the other's URL from them.
PORT = env.int("PORT", default=8000)
SIMULATOR_PORT = env.int("SIMULATOR_PORT", default=8001)

# --- Atomic -------------------------------------------------------------------------------
# ATOMIC_ENV picks defaults for everything below; each value can still be set on its own.
ATOMIC_ENV = env.str("ATOMIC_ENV", default="simulator")
_SIMULATOR_URL = f"http://127.0.0.1:{SIMULATOR_PORT}"
# The published SDK, pinned, with its Subresource Integrity hash.
_PUBLISHED_SDK_URL = "https://unpkg.com/@atomicfi/transact-javascript@3.2.0/index.js"
_PUBLISHED_SDK_INTEGRITY = "sha384-i9ytaLU6ELyMxk6+Xa48CYZoWYq7W9wnVX3ZBV70Fx6IzvzzErIgnDto+VnwRxyr"
_ATOMIC_DEFAULTS = {
    "simulator": {
        "ATOMIC_API_URL": _SIMULATOR_URL,
        # The simulator reads the same two settings, so these demo values pair the two.
        "ATOMIC_API_KEY": "simulator-key",
        "ATOMIC_API_SECRET": "simulator-secret",
        "ATOMIC_TRANSACT_ORIGIN": _SIMULATOR_URL,
        "ATOMIC_TRANSACT_SDK_URL": f"{_SIMULATOR_URL}/sdk/transact.js",
        "ATOMIC_TRANSACT_SDK_INTEGRITY": "",
    },
    "sandbox": {
        "ATOMIC_API_URL": "https://sandbox-api.atomicfi.com",
        "ATOMIC_API_KEY": "",
        "ATOMIC_API_SECRET": "",
        "ATOMIC_TRANSACT_ORIGIN": "",
        "ATOMIC_TRANSACT_SDK_URL": _PUBLISHED_SDK_URL,
        "ATOMIC_TRANSACT_SDK_INTEGRITY": _PUBLISHED_SDK_INTEGRITY,
    },
    "production": {
        "ATOMIC_API_URL": "https://api.atomicfi.com",
        "ATOMIC_API_KEY": "",
        "ATOMIC_API_SECRET": "",
        "ATOMIC_TRANSACT_ORIGIN": "",
        "ATOMIC_TRANSACT_SDK_URL": _PUBLISHED_SDK_URL,
        "ATOMIC_TRANSACT_SDK_INTEGRITY": _PUBLISHED_SDK_INTEGRITY,
    },
}
if ATOMIC_ENV not in _ATOMIC_DEFAULTS:
    raise ImproperlyConfigured(
        f"ATOMIC_ENV is {ATOMIC_ENV!r}; it must be one of: {', '.join(_ATOMIC_DEFAULTS)}."
    )
_atomic = _ATOMIC_DEFAULTS[ATOMIC_ENV]
SIMULATOR_MODE = ATOMIC_ENV == "simulator"

ATOMIC_API_URL = env.str("ATOMIC_API_URL", default=_atomic["ATOMIC_API_URL"]).rstrip("/")
ATOMIC_API_KEY = env.str("ATOMIC_API_KEY", default=_atomic["ATOMIC_API_KEY"])
ATOMIC_API_SECRET = env.str("ATOMIC_API_SECRET", default=_atomic["ATOMIC_API_SECRET"])
# Passed to the SDK as environmentOverride; empty means the SDK's own default origin.
ATOMIC_TRANSACT_ORIGIN = env.str(
    "ATOMIC_TRANSACT_ORIGIN", default=_atomic["ATOMIC_TRANSACT_ORIGIN"]
).rstrip("/")
ATOMIC_TRANSACT_SDK_URL = env.str(
    "ATOMIC_TRANSACT_SDK_URL", default=_atomic["ATOMIC_TRANSACT_SDK_URL"]
)
ATOMIC_TRANSACT_SDK_INTEGRITY = env.str(
    "ATOMIC_TRANSACT_SDK_INTEGRITY", default=_atomic["ATOMIC_TRANSACT_SDK_INTEGRITY"]
)
# (connect, read) timeouts in seconds for every call to Atomic.
ATOMIC_CONNECT_TIMEOUT = env.float("ATOMIC_CONNECT_TIMEOUT", default=3.05)
ATOMIC_READ_TIMEOUT = env.float("ATOMIC_READ_TIMEOUT", default=10.0)
# The longest Retry-After the client will sleep for before giving up on a 429.
ATOMIC_MAX_RETRY_AFTER = env.float("ATOMIC_MAX_RETRY_AFTER", default=10.0)
# Seconds all calls to Atomic made while a person waits (a page, the token, an admin action)
# get together, retries included; background syncs keep the timeouts above.
ATOMIC_REQUEST_DEADLINE_SECONDS = env.float("ATOMIC_REQUEST_DEADLINE_SECONDS", default=4.0)
# How many of those may wait on Atomic at once in one web process (0: no limit); the rest are
# refused at once with a sentence, so threads stay free for pages. Half of GUNICORN_THREADS.
ATOMIC_REQUEST_CONCURRENCY = env.int("ATOMIC_REQUEST_CONCURRENCY", default=4)

# --- The host's PayLink behaviour ------------------------------------------------------------
PAYLINK_HUB_APPS = env.list("PAYLINK_HUB_APPS", default=["expenses", "suggestions"])
# Lifetime of each publicToken, seconds (Atomic accepts 1800 to 2592000).
PAYLINK_TOKEN_LIFETIME = env.int("PAYLINK_TOKEN_LIFETIME", default=1800)
PAYLINK_SIGNUP_ENABLED = env.bool("PAYLINK_SIGNUP_ENABLED", default=SIMULATOR_MODE)
# At most one GET /task/{id}/status per task per this many seconds, across all pollers.
PAYLINK_STATUS_REFRESH_SECONDS = env.int("PAYLINK_STATUS_REFRESH_SECONDS", default=5)
PAYLINK_WEBHOOK_MAX_BYTES = env.int("PAYLINK_WEBHOOK_MAX_BYTES", default=256 * 1024)
# Tasks queued or processing for longer than this are asked about by paylink_reconcile.
PAYLINK_RECONCILE_AFTER_SECONDS = env.int("PAYLINK_RECONCILE_AFTER_SECONDS", default=300)
# A task id reported by a browser that Atomic has not confirmed as the user's by then is dropped.
PAYLINK_UNCONFIRMED_TASK_SECONDS = env.int("PAYLINK_UNCONFIRMED_TASK_SECONDS", default=86400)
# A demo user created by `make run` in simulator mode.
PAYLINK_DEMO_USERNAME = env.str("PAYLINK_DEMO_USERNAME", default="demo")
PAYLINK_DEMO_PASSWORD = env.str("PAYLINK_DEMO_PASSWORD", default="demo-pass-1234")

# --- Django -------------------------------------------------------------------------------
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

if not DEBUG and not TESTING:
    _required = {"DJANGO_SECRET_KEY": SECRET_KEY}
    if not SIMULATOR_MODE:
        _required |= {"ATOMIC_API_KEY": ATOMIC_API_KEY, "ATOMIC_API_SECRET": ATOMIC_API_SECRET}
    for _name, _value in _required.items():
        if not _value:
            raise ImproperlyConfigured(
                f"{_name} is not set. Set it in the environment or in .env "
                "(see .env.example), or set DJANGO_DEBUG=true for local development."
            )
if not SECRET_KEY:
    # Debug and tests only: a fixed, obviously unsafe key.
    SECRET_KEY = "insecure-development-key-never-use-in-production"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "paylink",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "paylink.middleware.RefusalSentenceMiddleware",
    "paylink.middleware.AtomicDeadlineMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "hubsite.urls"
WSGI_APPLICATION = "hubsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'host.sqlite3'}")
}
DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process and the task worker read while the other writes.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
    # Tests use a file, not memory: with an in-memory database Django's live server hands every
    # request thread one shared connection, and concurrent requests trip over its transactions.
    # The test runner gives each run a folder of its own (tests/testenv.py).
    _test_dir = Path(env.str("PAYLINK_TEST_SQLITE_DIR", default=str(BASE_DIR / "var")))
    DATABASES["default"].setdefault("TEST", {}).setdefault(
        "NAME", str(_test_dir / "test-host.sqlite3")
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared across processes by default (throttles, status-poll rate limit);
# CACHE_URL=redis://127.0.0.1:6379/1 for many machines.
CACHES = {"default": env.cache_url("CACHE_URL", default="dbcache://paylink_cache")}

TASKS = {
    "default": {
        "BACKEND": env.str("PAYLINK_TASKS_BACKEND", default="django_tasks_db.DatabaseBackend")
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Tests create hundreds of users; a deliberately slow hash would dominate the suite's time.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "paylink:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Outgoing mail (password resets): the console in debug and simulator mode, else SMTP at
# EMAIL_URL, e.g. smtp+tls://user:password@mail.example.com:587.
_email = env.email_url("EMAIL_URL", default="smtp://localhost:25")
_email_backend = env.str(
    "DJANGO_EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG or SIMULATOR_MODE
    else _email["EMAIL_BACKEND"],
)
MAILERS = {
    "default": {
        "BACKEND": _email_backend,
        "OPTIONS": {
            "host": _email["EMAIL_HOST"],
            "port": _email["EMAIL_PORT"],
            "username": _email["EMAIL_HOST_USER"],
            "password": _email["EMAIL_HOST_PASSWORD"],
            "use_tls": _email.get("EMAIL_USE_TLS", False),
            "use_ssl": _email.get("EMAIL_USE_SSL", False),
        }
        if _email_backend.endswith("smtp.EmailBackend")
        else {},
    }
}
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="hub@localhost")

# --- Security headers ---------------------------------------------------------------------
_sdk_origin = "/".join(ATOMIC_TRANSACT_SDK_URL.split("/")[:3])
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE, _sdk_origin],
    "style-src": [CSP.SELF],
    # Billers' logos come from Atomic's CDN over https; the simulator serves its own over http.
    "img-src": [CSP.SELF, "data:", "https:", *([ATOMIC_API_URL] if SIMULATOR_MODE else [])],
    "connect-src": [CSP.SELF],
    "frame-src": [ATOMIC_TRANSACT_ORIGIN or "https://transact.atomicfi.com"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG and not SIMULATOR_MODE)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_BEHIND_PROXY", default=False) else None
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
