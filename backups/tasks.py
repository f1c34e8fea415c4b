import logging

from celery import shared_task
from django.db import OperationalError

from backups.services import backup_create

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    name="backups.backup",
    # A database that is briefly unreachable (a restart, a failover): try again in 10 minutes,
    # twice. Anything else (no pg_dump, a full disk) fails loudly now; a retry would not fix it,
    # and tomorrow's run is the next try. A failed run leaves no file that counts
    # (backups.services), so a retry or the next night starts clean.
    autoretry_for=(OperationalError,),
    retry_backoff=600,
    retry_backoff_max=600,
    retry_jitter=False,
    max_retries=2,
)
def backup(self) -> dict:
    """The nightly backup (beat, settings.CELERY_BEAT_SCHEDULE["backup"])."""
    result = backup_create()
    return {
        "path": str(result.path),
        "size": result.size,
        "seconds": round(result.seconds, 1),
        "pruned": [str(path) for path in result.pruned],
    }
