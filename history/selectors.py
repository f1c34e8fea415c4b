from django.db.models import QuerySet

from history.models import Entry


def client_history(*, client_id: int) -> QuerySet:
    """Every history entry of the client, newest first (GET /api/clients/<id>/history/)."""
    return Entry.objects.filter(client_id=client_id).order_by("-timestamp", "-id")
