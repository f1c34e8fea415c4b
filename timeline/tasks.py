from celery import shared_task

from timeline.digest import digests_send


@shared_task(
    name="timeline.send_digests",
    # A worker killed mid-run leaves the message unacknowledged, so it is delivered again: the
    # TaskDigest claims keep the re-run from mailing anyone twice.
    acks_late=True,
    reject_on_worker_lost=True,
)
def send_digests() -> dict:
    """Hourly (CELERY_BEAT_SCHEDULE "task-digests"): mail each assignee whose TASK_DIGEST_HOUR
    has come their digest for today. No retries of its own: a digest that failed to send is
    released, and the next hourly run sends it."""
    return {"sent": digests_send()}
