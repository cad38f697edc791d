"""The host as gunicorn serves it in `python -m bench --server`, plus the trivial view."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hubsite.settings")
application = get_wsgi_application()
# After setup and before the first request: the URLconf and the cache are only read then.
settings.ROOT_URLCONF = "bench.urls"
settings.CACHES["default"]["KEY_PREFIX"] = os.environ.get("BENCH_CACHE_KEY_PREFIX", "")
