import contextlib
import zoneinfo

from celery import shared_task
from django.utils import timezone, translation

from core.models import user_language, user_time_zone
from imports import services
from imports.models import Import


@contextlib.contextmanager
def _as_its_creator(import_id: int, language: str | None, time_zone: str | None):
    """Run the import in the language and time zone of the request that queued it, as a small
    file checked inside that request is (for a task queued before they were sent: the
    creator's profile's, else the business's). The row errors, the summary and the messages it
    stores are text, so they stay in that language when the page shows them later; a date
    without a zone in the file is read on the creator's clock."""
    if language is None or time_zone is None:
        batch = Import.objects.select_related("user__profile").filter(pk=import_id).first()
        user = batch.user if batch is not None else None
        if user is None:
            yield
            return
        language, zone = user_language(user), user_time_zone(user)
    else:
        zone = zoneinfo.ZoneInfo(time_zone)
    with translation.override(language), timezone.override(zone):
        yield


# No retries: a commit that fails rolled back and says why on its page; running it again
# unasked could import a file its user has since given up on.
@shared_task(name="imports.check")
def check(import_id: int, language: str | None = None, time_zone: str | None = None) -> None:
    """Check a big file's rows in the background (the preview)."""
    with _as_its_creator(import_id, language, time_zone):
        services.import_check(import_id=import_id)


@shared_task(name="imports.commit")
def commit(import_id: int, language: str | None = None, time_zone: str | None = None) -> None:
    """Commit a big file in the background; the page follows its progress."""
    with _as_its_creator(import_id, language, time_zone):
        services.import_commit(import_id=import_id)
