"""The host as gunicorn serves it in `python -m bench --server`, plus the trivial view."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from bench.server import server_caches

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hubsite.settings")
application = get_wsgi_application()
# After setup and before the first request: the URLconf and the cache are only read then.
settings.ROOT_URLCONF = "bench.urls"
# In place: the cache handler may hold the settings' dict already.
settings.CACHES["default"].update(server_caches(settings.CACHES)["default"])
