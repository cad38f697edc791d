"""Settings for the Atomic simulator: a separate Django project with its own database and origin.

It is a local test double, so every value has a working default; each can be set from the
environment. It shares only the API key/secret names (and the ports) with the host.
"""

from __future__ import annotations

from pathlib import Path

import environ

# Its SQLite database lives in var/ (ignored by git), made at start-up by simulator/apps.py.
BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# A fixed key is fine for a local double; it only signs action ids and the QA page's CSRF.
SECRET_KEY = env.str("SIMULATOR_SECRET_KEY", default="simulator-local-test-double-key")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

PORT = env.int("PORT", default=8000)
SIMULATOR_PORT = env.int("SIMULATOR_PORT", default=8001)
SIMULATOR_PUBLIC_URL = env.str(
    "SIMULATOR_PUBLIC_URL", default=f"http://127.0.0.1:{SIMULATOR_PORT}"
).rstrip("/")

# The same names as the host reads, so the two pair up with no configuration.
ATOMIC_API_KEY = env.str("ATOMIC_API_KEY", default="simulator-key")
ATOMIC_API_SECRET = env.str("ATOMIC_API_SECRET", default="simulator-secret")

SIMULATOR_WEBHOOK_URL = env.str(
    "SIMULATOR_WEBHOOK_URL", default=f"http://127.0.0.1:{PORT}/webhooks/atomic/"
)
# Atomic waits 30 s between webhook tries; tests shorten it.
SIMULATOR_WEBHOOK_RETRY_DELAY = env.float("SIMULATOR_WEBHOOK_RETRY_DELAY", default=30.0)
SIMULATOR_WEBHOOK_TIMEOUT = env.float("SIMULATOR_WEBHOOK_TIMEOUT", default=5.0)
# Seconds between a task's status steps (queued -> processing -> final).
SIMULATOR_TASK_STEP_SECONDS = env.float("SIMULATOR_TASK_STEP_SECONDS", default=1.5)
# How often Transact's progress screen asks about a running task, in milliseconds.
SIMULATOR_TRANSACT_POLL_MS = env.int("SIMULATOR_TRANSACT_POLL_MS", default=500)
# The key that carries a failed task's reason: `failReason` in Atomic's API reference, `reason` in
# what Atomic says its PayLink webhooks send. The host must read either; QA can switch.
SIMULATOR_FAIL_REASON_KEY = env.str("SIMULATOR_FAIL_REASON_KEY", default="failReason")
# How accounts list their actions: "seed" ({type, id} on the account, as in Atomic's API reference)
# or "newer" ({type, actionId, automated} under each bill or expense, as newer apps send them).
SIMULATOR_ACCOUNT_SHAPE = env.str("SIMULATOR_ACCOUNT_SHAPE", default="seed")
# Which accounts routes answer: both, v1 (GET /{identifier}/pay-link/accounts) or v2
# (GET /pay-link/accounts?identifier= with x-api-version: v2); the other answers 404.
SIMULATOR_ACCOUNTS_ROUTES = env.str("SIMULATOR_ACCOUNTS_ROUTES", default="both")
# The webhook shape, one published variant per dimension: where the task id goes (data.taskId,
# task, data.task or data.task._id), how the signature is written (hex or base64), what metadata
# goes out (echo, empty or absent), and what pay-link-accounts-updated carries (ids or accounts).
SIMULATOR_WEBHOOK_TASK_ID = env.str("SIMULATOR_WEBHOOK_TASK_ID", default="data.taskId")
SIMULATOR_WEBHOOK_SIGNATURE = env.str("SIMULATOR_WEBHOOK_SIGNATURE", default="hex")
SIMULATOR_WEBHOOK_METADATA = env.str("SIMULATOR_WEBHOOK_METADATA", default="echo")
SIMULATOR_ACCOUNTS_WEBHOOK_DATA = env.str("SIMULATOR_ACCOUNTS_WEBHOOK_DATA", default="ids")
# What Transact's close button reports: auto (task-pending while a task runs, else unknown) or
# one of unknown, dismissed, task-pending, zero-search-results, manual-fallback,
# handoff:exit-prompt, handoff:high-latency.
SIMULATOR_CLOSE_REASON = env.str("SIMULATOR_CLOSE_REASON", default="auto")

# The browser SDK served at /sdk/transact.js: ours by default. Pointing this at Atomic's published
# `index.js` (@atomicfi/transact-javascript) runs every page against Atomic's own script instead.
SIMULATOR_SDK_FILE = env.path(
    "SIMULATOR_SDK_FILE", default=BASE_DIR / "simulator/static/simulator/sdk/transact.js"
)

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "simulator",
    "simulator.transact",
]

# No clickjacking middleware: the host frames Transact pages from another origin.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "simulator.middleware.JsonErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "simulator.middleware.EngineStartMiddleware",
]

ROOT_URLCONF = "simulator.urls"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
            ],
        },
    },
]

DATABASES = {
    "default": env.db(
        "SIMULATOR_DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'simulator.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Request threads, the task stepper and the webhook sender all write: WAL plus a patient lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            # NORMAL is safe with WAL and skips an fsync per commit: a test double needs no more.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Signed cookies: no session table, and names that do not clash with the host's on 127.0.0.1.
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_NAME = "sim_sessionid"
CSRF_COOKIE_NAME = "sim_csrftoken"
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = [SIMULATOR_PUBLIC_URL]

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "simulator-static"
# Served from the app directories by whitenoise, so runserver works without DEBUG.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
