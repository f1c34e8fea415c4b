"""The Celery app: configured from Django settings (names prefixed CELERY_), tasks found in each
installed app's tasks.py. Started with `celery -A mini_crm worker` and `celery -A mini_crm beat`
(exactly one beat per deployment: see README "Monthly report")."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mini_crm.settings")

app = Celery("mini_crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
