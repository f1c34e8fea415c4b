from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from history.models import Entry


def client_history(*, client_id: int, user=None) -> QuerySet:
    """Every history entry of the client, newest first (GET /api/clients/<id>/history/, the
    admin's History page). With `user`, only the entries about what they may view: a role
    without notes does not read a note's text in its history."""
    entries = Entry.objects.filter(client_id=client_id).order_by("-timestamp", "-id")
    if user is not None:
        hidden = [
            model
            for model in auditlog.get_models()
            if not user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")
        ]
        if hidden:
            types = ContentType.objects.get_for_models(*hidden).values()
            entries = entries.exclude(content_type__in=[ct.pk for ct in types])
    return entries
