import logging

from celery import shared_task

from dashboard.services import missing_triggers, rollups_drift, rollups_rebuild

logger = logging.getLogger(__name__)


@shared_task(name="dashboard.check_rollups")
def check_rollups() -> dict:
    """Nightly, beside clients.check_totals: each drift of the dashboard's roll-ups is logged
    as an error (a write path bypassed the triggers), then they are rebuilt."""
    missing = sorted(missing_triggers())
    if missing:
        logger.error("check_rollups: roll-up triggers missing: %s", ", ".join(missing))
    drift = rollups_drift()
    for item in drift:
        logger.error("check_rollups: %s", item)
    if drift:
        rollups_rebuild()
        logger.error("check_rollups: %d bucket(s) drifted, rebuilt", len(drift))
    return {"drifted": len(drift), "missing_triggers": missing}
