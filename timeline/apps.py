from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TimelineConfig(AppConfig):
    """A client's timeline: notes, follow-up tasks (with the daily digest), and the page that
    shows them beside the client's history and orders."""

    name = "timeline"
    verbose_name = _("Timeline")

    def ready(self) -> None:
        from clients.events import client_merging
        from history.registry import track
        from timeline.models import Note, Task
        from timeline.services import notes_and_tasks_move

        track(Note, fields=["body"], cascades_logged=False)
        track(Task, fields=["title", "due_at", "assignee", "done"], cascades_logged=False)
        client_merging.connect(notes_and_tasks_move, dispatch_uid="timeline.merge")
