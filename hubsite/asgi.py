"""ASGI entry point for the host."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hubsite.settings")
application = get_asgi_application()
