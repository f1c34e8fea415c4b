from django.apps import AppConfig


class TimelineConfig(AppConfig):
    """A client's timeline: notes, follow-up tasks (with the daily digest), and the page that
    shows them beside the client's history and orders."""

    name = "timeline"

    def ready(self) -> None:
        from history.registry import track
        from timeline.models import Note, Task

        track(Note, fields=["body"], cascades_logged=False)
        track(Task, fields=["title", "due_at", "assignee", "done"], cascades_logged=False)
