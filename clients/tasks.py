import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from clients.services import missing_triggers, totals_drift, totals_fix, trash_purge

logger = logging.getLogger(__name__)


@shared_task(name="clients.check_totals")
def check_totals() -> dict:
    """Nightly: every drift of the stored roll-ups is logged as an error (it means a write
    path bypassed the triggers, a bug worth hearing of), then fixed, so pages are right."""
    missing = sorted(missing_triggers())
    if missing:
        logger.error("check_totals: roll-up triggers missing: %s", ", ".join(missing))
    drift = totals_drift()
    for item in drift:
        logger.error("check_totals: %s", item)
    fixed = totals_fix([item.client_id for item in drift])
    if drift:
        logger.error("check_totals: %d client(s) drifted, %d fixed", len(drift), fixed)
    return {"drifted": len(drift), "fixed": fixed, "missing_triggers": missing}


@shared_task(name="clients.purge_trash")
def purge_trash() -> dict:
    """Daily: what has been in the trash longer than TRASH_DAYS is deleted for good."""
    purged = trash_purge(older_than=timedelta(days=settings.TRASH_DAYS))
    if purged:
        logger.info("purge_trash: %d client(s) deleted for good", purged)
    return {"purged": purged}
