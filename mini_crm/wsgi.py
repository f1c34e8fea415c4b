"""WSGI entry point: gunicorn serves the HTTP pages in production."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mini_crm.settings")

application = get_wsgi_application()
