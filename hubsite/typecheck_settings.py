"""Settings for mypy only: the host's and the simulator's apps in one app registry.

mypy's Django plugin (django-stubs) reads one settings module to learn the models and the
settings names, and the host and the simulator are two Django projects. This module lays the
simulator's settings and apps beside the host's so one mypy run checks both. Nothing runs with it.
"""

from __future__ import annotations

import os

# The host's settings refuse to load without a secret key outside debug.
os.environ.setdefault("DJANGO_DEBUG", "true")

from hubsite.settings import *  # noqa: F403
from simulator.settings import INSTALLED_APPS as _SIMULATOR_APPS
from simulator.settings import (  # noqa: F401 (the settings the simulator's code reads)
    SIMULATOR_PUBLIC_URL,
    SIMULATOR_SDK_FILE,
    SIMULATOR_TASK_STEP_SECONDS,
    SIMULATOR_TRANSACT_POLL_MS,
    SIMULATOR_WEBHOOK_RETRY_DELAY,
    SIMULATOR_WEBHOOK_TIMEOUT,
    SIMULATOR_WEBHOOK_URL,
)

INSTALLED_APPS = [
    *INSTALLED_APPS,  # noqa: F405
    *(app for app in _SIMULATOR_APPS if app not in INSTALLED_APPS),  # noqa: F405
]
