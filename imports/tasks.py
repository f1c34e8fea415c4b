from celery import shared_task

from imports import services


# No retries: a commit that fails rolled back and says why on its page; running it again
# unasked could import a file its user has since given up on.
@shared_task(name="imports.check")
def check(import_id: int) -> None:
    """Check a big file's rows in the background (the preview)."""
    services.import_check(import_id=import_id)


@shared_task(name="imports.commit")
def commit(import_id: int) -> None:
    """Commit a big file in the background; the page follows its progress."""
    services.import_commit(import_id=import_id)
