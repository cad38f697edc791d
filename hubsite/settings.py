"""Settings for the Payments Hub host.

One flat module. Every value comes from the environment (or `.env`) through a typed
django-environ reader, so a bad value stops start-up instead of surfacing at 3 a.m.
`.env.example` explains each one.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from paylink.observability.logs import logging_config

# Local state (SQLite databases, collected static files, metric files) lives in var/, ignored by
# git. Importing the settings makes no folder: paylink/apps.py makes them at start-up, and the
# metrics module its own (paylink/observability/metrics_files.py).
BASE_DIR = Path(__file__).resolve().parent.parent

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
# The secret being rotated out: webhooks signed with it are still accepted until it is unset.
ATOMIC_API_SECRET_PREVIOUS = env.str("ATOMIC_API_SECRET_PREVIOUS", default="")
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
# Which route lists a user's accounts: v1 (the seed's GET /{identifier}/pay-link/accounts), v2
# (GET /pay-link/accounts with x-api-version: v2), or auto (v1, then v2 when v1 answers 404).
ATOMIC_ACCOUNTS_API = env.str("ATOMIC_ACCOUNTS_API", default="auto")
if ATOMIC_ACCOUNTS_API not in ("v1", "v2", "auto"):
    raise ImproperlyConfigured(
        f"ATOMIC_ACCOUNTS_API is {ATOMIC_ACCOUNTS_API!r}; it must be one of: v1, v2, auto."
    )
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
# How soon a page waiting on Atomic asks the host again, at first, in seconds: the task page
# (then less often after the first minute) and the dashboard while a Refresh is landing.
PAYLINK_POLL_SECONDS = env.float("PAYLINK_POLL_SECONDS", default=2.0)
# The task page stops polling a task this old (it offers "Check again"): a forgotten tab on a
# stuck task must not poll for ever. It polls less often after the first minute.
PAYLINK_TASK_POLL_DEADLINE_SECONDS = env.int("PAYLINK_TASK_POLL_DEADLINE_SECONDS", default=900)
# A queued accounts sync covers every request made before it starts; a claim older than this is
# taken for lost (its job never ran) and a new sync is enqueued.
PAYLINK_SYNC_QUEUED_LAPSE_SECONDS = env.int("PAYLINK_SYNC_QUEUED_LAPSE_SECONDS", default=300)
# A background accounts sync that fails on an answer worth retrying (a timeout, 429, 5xx) is
# tried again up to this many times, after a delay that doubles from the base up to the cap,
# with jitter (the scheduled reconcile picks up whatever is still failing after that).
PAYLINK_SYNC_RETRY_ATTEMPTS = env.int("PAYLINK_SYNC_RETRY_ATTEMPTS", default=5)
PAYLINK_SYNC_RETRY_BASE_SECONDS = env.float("PAYLINK_SYNC_RETRY_BASE_SECONDS", default=10.0)
PAYLINK_SYNC_RETRY_MAX_SECONDS = env.float("PAYLINK_SYNC_RETRY_MAX_SECONDS", default=120.0)
# Signed webhook bodies up to this size are read (in chunks) and kept; larger ones get 413.
PAYLINK_WEBHOOK_MAX_BYTES = env.int("PAYLINK_WEBHOOK_MAX_BYTES", default=5 * 1024 * 1024)
# Refused (unsigned or forged) webhooks recorded per minute; beyond it only a log line each.
PAYLINK_WEBHOOK_REJECTS_PER_MINUTE = env.int("PAYLINK_WEBHOOK_REJECTS_PER_MINUTE", default=60)
# Tasks queued or processing for longer than this are asked about by paylink_reconcile.
PAYLINK_RECONCILE_AFTER_SECONDS = env.int("PAYLINK_RECONCILE_AFTER_SECONDS", default=300)
# A person's task list is read by reconcile until this long after their last token lapsed.
PAYLINK_RECONCILE_SETTLE_SECONDS = env.int("PAYLINK_RECONCILE_SETTLE_SECONDS", default=3600)
# Reconcile's calls to Atomic, per second, across every process.
PAYLINK_RECONCILE_CALLS_PER_SECOND = env.int("PAYLINK_RECONCILE_CALLS_PER_SECOND", default=20)
# Periodic jobs (paylink/tasks.py, run by the scheduler): recovery and retention.
# When reconcile runs, in crontab syntax (UTC; days of the week by name, e.g. Mon, or *).
PAYLINK_RECONCILE_SCHEDULE = env.str("PAYLINK_RECONCILE_SCHEDULE", default="*/5 * * * *")
# When reminder emails (daily) and weekly summaries (Mondays) go out, crontab syntax, UTC. Each
# email goes once whatever the schedule, so running them more often only sends sooner.
PAYLINK_REMINDERS_SCHEDULE = env.str("PAYLINK_REMINDERS_SCHEDULE", default="0 8 * * *")
PAYLINK_WEEKLY_SUMMARY_SCHEDULE = env.str("PAYLINK_WEEKLY_SUMMARY_SCHEDULE", default="0 8 * * Mon")
# A task RUNNING longer than this lost its worker: it is queued again (our tasks are safe to run
# twice), and failed with a note after PAYLINK_TASK_MAX_ATTEMPTS tries.
PAYLINK_TASK_STUCK_AFTER_SECONDS = env.int("PAYLINK_TASK_STUCK_AFTER_SECONDS", default=1800)
# Each worker (bin/worker: manage.py paylink_db_worker) records a heartbeat this often; a task
# RUNNING under a worker silent for PAYLINK_WORKER_LOST_AFTER_SECONDS lost it and is queued again
# at the next recovery (every minute), while a beating worker's task is never touched. The
# deadline above is left for tasks whose worker never beat (a worker started without it).
PAYLINK_WORKER_HEARTBEAT_SECONDS = env.int("PAYLINK_WORKER_HEARTBEAT_SECONDS", default=10)
PAYLINK_WORKER_LOST_AFTER_SECONDS = env.int("PAYLINK_WORKER_LOST_AFTER_SECONDS", default=40)
PAYLINK_TASK_MAX_ATTEMPTS = env.int("PAYLINK_TASK_MAX_ATTEMPTS", default=3)
# A verified webhook event still unprocessed after this long has lost its task: enqueued again.
PAYLINK_WEBHOOK_REDRIVE_AFTER_SECONDS = env.int(
    "PAYLINK_WEBHOOK_REDRIVE_AFTER_SECONDS", default=300
)
# How long finished task results, webhook events and SDK events are kept, in days.
PAYLINK_TASK_RESULT_RETENTION_DAYS = env.int("PAYLINK_TASK_RESULT_RETENTION_DAYS", default=14)
PAYLINK_WEBHOOK_EVENT_RETENTION_DAYS = env.int("PAYLINK_WEBHOOK_EVENT_RETENTION_DAYS", default=90)
PAYLINK_SDK_EVENT_RETENTION_DAYS = env.int("PAYLINK_SDK_EVENT_RETENTION_DAYS", default=90)
# A task id reported by a browser that Atomic has not confirmed as the user's by then is dropped.
PAYLINK_UNCONFIRMED_TASK_SECONDS = env.int("PAYLINK_UNCONFIRMED_TASK_SECONDS", default=86400)
# A demo user created by `make run` in simulator mode.
PAYLINK_DEMO_USERNAME = env.str("PAYLINK_DEMO_USERNAME", default="demo")
PAYLINK_DEMO_PASSWORD = env.str("PAYLINK_DEMO_PASSWORD", default="demo-pass-1234")

# --- Trust boundaries (paylink/lib/client_address.py, login_throttle.py, rate_limits.py) ---------
# The address ranges (CIDR) the reverse proxies in front of the host speak from: X-Forwarded-For
# is read only on a request whose peer is inside them, walking back through every hop that is
# too. Optionally, how many proxies append to the header (counted from its right), still only
# from a peer inside the ranges: a count without ranges is refused outside debug. With no
# ranges, the client is the socket's peer and no header is read. gunicorn.conf.py gives gunicorn
# the same ranges (forwarded_allow_ips).
PAYLINK_TRUSTED_PROXIES = env.list("PAYLINK_TRUSTED_PROXIES", default=[])
PAYLINK_TRUSTED_PROXY_COUNT = env.int("PAYLINK_TRUSTED_PROXY_COUNT", default=0)
# Failed sign-ins allowed per (username, address) pair and per address, within the window.
PAYLINK_SIGNIN_PAIR_FAILURES = env.int("PAYLINK_SIGNIN_PAIR_FAILURES", default=5)
PAYLINK_SIGNIN_ADDRESS_FAILURES = env.int("PAYLINK_SIGNIN_ADDRESS_FAILURES", default=20)
PAYLINK_SIGNIN_WINDOW_SECONDS = env.int("PAYLINK_SIGNIN_WINDOW_SECONDS", default=15 * 60)
# Requests allowed per window, as "count/seconds", each answering 429 past its count.
PAYLINK_RATE_LIMITS = {
    "sign_in": env.str("PAYLINK_RATE_LIMIT_SIGN_IN", default="60/900"),
    "sign_up": env.str("PAYLINK_RATE_LIMIT_SIGN_UP", default="10/3600"),
    "password_reset": env.str("PAYLINK_RATE_LIMIT_PASSWORD_RESET", default="5/3600"),
    "password_reset_email": env.str("PAYLINK_RATE_LIMIT_PASSWORD_RESET_EMAIL", default="3/3600"),
    "hub_token": env.str("PAYLINK_RATE_LIMIT_HUB_TOKEN", default="20/600"),
    "hub_events": env.str("PAYLINK_RATE_LIMIT_HUB_EVENTS", default="120/60"),
    "dashboard_refresh": env.str("PAYLINK_RATE_LIMIT_DASHBOARD_REFRESH", default="6/60"),
    # Each one mails a confirmation link to the address given.
    "email_change": env.str("PAYLINK_RATE_LIMIT_EMAIL_CHANGE", default="5/3600"),
}
# Staff sign in to the admin with a password and a TOTP code (manage.py paylink_admin_totp),
# in development too, so what staff meet under `make run` is what production asks.
PAYLINK_ADMIN_REQUIRE_OTP = env.bool("PAYLINK_ADMIN_REQUIRE_OTP", default=True)
# TOTP keys are secrets: the admin never shows them; the command prints one once, at enrolment.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

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
    "paylink.admin_site.PaylinkAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "crontask",
    "paylink",
    "reminders",
]

MIDDLEWARE = [
    # /healthz and /readyz, answered before host checks, HTTPS redirects and sessions.
    "paylink.lib.health.HealthMiddleware",
    # /metrics (with PAYLINK_METRICS_TOKEN), then one log line per request (paylink/observability).
    "paylink.observability.exposition.MetricsMiddleware",
    "paylink.observability.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "paylink.lib.middleware.PermissionsPolicyMiddleware",
    # Atomic's webhooks, answered here: nothing further down applies to them.
    "paylink.views.webhooks.WebhookMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "paylink.lib.middleware.CachedPolicyCSPMiddleware",
    "paylink.lib.middleware.RefusalSentenceMiddleware",
    "paylink.client.AtomicDeadlineMiddleware",
    # Django's, telling the session store which request it serves (paylink/lib/sessions.py).
    "paylink.lib.sessions.PrefetchingSessionMiddleware",
    # Django's LocaleMiddleware, a signed-in person's saved language first (paylink/language.py).
    "paylink.language.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, with the user's cached row read in the session's round trip.
    "paylink.lib.auth_backend.SessionAuthenticationMiddleware",
    # "Today" and every date and time in the signed-in person's zone, kept in the session.
    "paylink.time_zone.ProfileTimeZoneMiddleware",
    "paylink.lib.middleware.AdminOTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "paylink.lib.middleware.NoStoreForSignedInMiddleware",
    "paylink.lib.middleware.LazyMessageMiddleware",
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
                # LANGUAGE_CODE for <html lang>: the language actually served.
                "django.template.context_processors.i18n",
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
if TESTING:
    # Threads other than a test's own (the live server's, answering the browser and the
    # simulator's kept-alive webhook connection) close their connection after each request, so
    # none outlives the test database. The test's own connection is pytest-django's to manage.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# A connection idle in a pool or kept across requests may have been closed by the server.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Connections on PostgreSQL, by configuration (see "Scaling" in the README):
# - DATABASE_POOL_MAX_SIZE=N: Django's psycopg pool, N connections per process at most;
# - DATABASE_PGBOUNCER=true: behind PgBouncer in transaction mode, which pools for every process:
#   no persistent connections and no server-side cursors (they do not survive a transaction).
_pool_max = env.int("DATABASE_POOL_MAX_SIZE", default=0)
_behind_pgbouncer = env.bool("DATABASE_PGBOUNCER", default=False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    if _pool_max and _behind_pgbouncer:
        raise ImproperlyConfigured(
            "Set DATABASE_POOL_MAX_SIZE or DATABASE_PGBOUNCER, not both: PgBouncer already pools."
        )
    if _pool_max:
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps connections, not Django
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(2, _pool_max),
            "max_size": _pool_max,
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        }
    if _behind_pgbouncer:
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
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
# Throttle and rate-limit counters live apart, where routine writes cannot evict them: Redis
# (with a non-evicting maxmemory-policy) from THROTTLE_CACHE_URL, else the main cache if that is
# Redis. Debug and tests may count in process memory; paylink/checks.py refuses that otherwise.
_throttle_default = (
    env.str("CACHE_URL", default="")
    if env.str("CACHE_URL", default="").startswith(("redis://", "rediss://"))
    else "locmemcache://paylink-throttle"
)
CACHES["throttle"] = env.cache_url("THROTTLE_CACHE_URL", default=_throttle_default)
CACHES["throttle"].setdefault("KEY_PREFIX", "throttle")
if CACHES["throttle"]["BACKEND"].endswith("LocMemCache"):
    CACHES["throttle"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 100_000)
_REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"
if CACHES["default"]["BACKEND"] == _REDIS_CACHE:
    # Pages only need the shared cache as a shortcut: with Redis away they render without it
    # (a miss), rather than failing (paylink/lib/cache_backends.py). The throttle stays strict.
    CACHES["default"]["BACKEND"] = "paylink.lib.cache_backends.TolerantRedisCache"
for _cache in CACHES.values():
    if _cache["BACKEND"] in (_REDIS_CACHE, "paylink.lib.cache_backends.TolerantRedisCache"):
        # An unreachable Redis costs a request a second or two, never a hung thread.
        _options = _cache.setdefault("OPTIONS", {})
        _options.setdefault("socket_connect_timeout", env.float("REDIS_CONNECT_TIMEOUT", default=1))
        _options.setdefault("socket_timeout", env.float("REDIS_TIMEOUT", default=2))

# Sessions and the signed-in user are read from the default cache in front of the database
# where that cache is one every process shares (Redis; in tests, the one process's memory), so a
# signed-in request reads no row to know who it is. A process's own memory in production would
# keep a signed-out session alive in the other processes, and the database cache reads a row
# anyway: there, both come from the database alone.
_default_cache = CACHES["default"]["BACKEND"]
PAYLINK_SHARED_CACHE = _default_cache == "paylink.lib.cache_backends.TolerantRedisCache" or (
    TESTING and _default_cache.endswith("LocMemCache")
)
# The shared cache's store is cached_db's, reading what a signed-in request needs next (its
# user's row) in the session's own round trip (paylink/lib/sessions.py).
SESSION_ENGINE = (
    "paylink.lib.sessions" if PAYLINK_SHARED_CACHE else "django.contrib.sessions.backends.db"
)
AUTHENTICATION_BACKENDS = [
    "paylink.lib.auth_backend.CachedUserBackend",
    # Sessions signed in before the backend above stay signed in (uncached).
    "django.contrib.auth.backends.ModelBackend",
]

# Background jobs are rows of a table in the host's database (django-tasks-db), run by
# bin/worker (`manage.py paylink_db_worker`). PAYLINK_TASKS_BACKEND names another django.tasks
# backend by its dotted path, for tests and benches (the immediate or the dummy one);
# `database`, the default, is this one.
DATABASE_TASKS_BACKEND = "django_tasks_db.DatabaseBackend"
_tasks_backend = env.str("PAYLINK_TASKS_BACKEND", default="database").strip()
TASKS_BACKEND = DATABASE_TASKS_BACKEND if _tasks_backend == "database" else _tasks_backend
# Queues by kind (paylink/tasks.py): webhook processing never waits behind Atomic calls.
TASK_QUEUES = ["default", "webhooks", "atomic"]
TASKS = {"default": {"BACKEND": TASKS_BACKEND, "QUEUES": TASK_QUEUES}}

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
# Each language named in itself: the switcher shows these names as they are.
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
if TESTING:
    # The tests' own, empty unless a test collects into it: what a release or a bench run
    # collected into var/staticfiles is not scanned again by every test's WhiteNoise.
    STATIC_ROOT = BASE_DIR / "var" / "test-staticfiles"
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

# Outgoing mail (password resets, reminders): the console in debug and simulator mode, else SMTP at
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
# The host's public address, for links in emails and calendar feeds (no request to build them from).
PAYLINK_SITE_URL = env.str("PAYLINK_SITE_URL", default=f"http://127.0.0.1:{PORT}").rstrip("/")
# What an authenticator app lists the admin's code under: the site, not only the staff member's
# name (paylink/admin_totp.py).
OTP_TOTP_ISSUER = f"Billfold {urlsplit(PAYLINK_SITE_URL).hostname or ''}".strip()

# --- Security headers ---------------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    # The one SDK file, path included: a whole host such as unpkg.com serves anyone's scripts.
    "script-src": [CSP.SELF, CSP.NONCE, ATOMIC_TRANSACT_SDK_URL],
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
# Powerful browser features no page of the host uses, refused to it and to every frame in it.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG and not SIMULATOR_MODE)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# The language switcher's cookie (Django's set_language and paylink/language.py): https only
# where the others are, and not sent on other sites' requests.
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_BEHIND_PROXY", default=False) else None
)

# --- Operations: logs, metrics, error reports (paylink/observability/) ----------------------
# `json`: one JSON object a line (production); `plain`: readable lines (the default in debug).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = logging_config(style=LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO"))
# GET /metrics answers only with "Authorization: Bearer <this>"; empty turns the endpoint off.
PAYLINK_METRICS_TOKEN = env.str("PAYLINK_METRICS_TOKEN", default="")
# Where every process on the machine keeps its counters for /metrics to add up
# (prometheus-client's multiprocess mode; PROMETHEUS_MULTIPROC_DIR, if set, wins).
PAYLINK_METRICS_DIR = env.str("PAYLINK_METRICS_DIR", default=str(BASE_DIR / "var" / "metrics"))
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", PAYLINK_METRICS_DIR)
# The operations page's hourly counts (calls to Atomic, syncs) are kept this many days.
PAYLINK_OPERATION_TALLY_RETENTION_DAYS = env.int(
    "PAYLINK_OPERATION_TALLY_RETENTION_DAYS", default=30
)
# Error reports go to Sentry when this is set, scrubbed of secrets and account numbers.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default=ATOMIC_ENV)
SENTRY_RELEASE = env.str("SENTRY_RELEASE", default="")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
