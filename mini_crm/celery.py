"""The Celery app: configured from Django settings (names prefixed CELERY_), tasks found in each
installed app's tasks.py. Started with `celery -A mini_crm worker` and `celery -A mini_crm beat`
(exactly one beat per deployment: see README "Monthly report")."""

import logging
import os

from celery import Celery
from celery.canvas import Signature
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mini_crm.settings")

logger = logging.getLogger(__name__)

app = Celery("mini_crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def send_on_commit(signature: Signature) -> None:
    """Queue `signature` once the current transaction commits (at once when there is none).

    What the user saved is already committed when this runs, and a dead broker only costs a
    logged error after the short connect timeouts and publish retries set in settings: the
    request neither fails nor hangs.
    """

    def send() -> None:
        try:
            signature.apply_async()
        except Exception:
            logger.exception("could not queue %s: is the broker (REDIS_URL) up?", signature.task)

    transaction.on_commit(send, robust=True)
