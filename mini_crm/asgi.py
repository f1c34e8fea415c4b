"""ASGI entry point: HTTP to Django."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mini_crm.settings")

application = get_asgi_application()
