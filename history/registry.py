"""Which models have a history, and which client each entry belongs to.

Each app tracks its own models from its AppConfig.ready() (clients: Client and Order; timeline:
Note and Task). django-auditlog then records every save and delete, from any path (pages,
admin, API, shell), with the changed fields. QuerySet.update() and bulk_create() send no
signal: the services that use them record their batch themselves (history/services.py).
"""

from collections.abc import Callable

from auditlog.receivers import log_delete
from auditlog.registry import auditlog
from django.db.models import QuerySet
from django.db.models.signals import post_delete

_client_of: dict[type, Callable] = {}


def track(
    model,
    *,
    fields: list[str],
    client_of: Callable = lambda obj: obj.client_id,
    cascades_logged: bool = True,
) -> None:
    """Record every create, change (of `fields`) and delete of `model`, under the client that
    `client_of(instance)` names.

    With `cascades_logged=False`, a row deleted by the cascade of another model's delete (a
    client's orders, notes and tasks) is not recorded one by one: the delete that caused it
    is. A client with 20,000 orders is one entry, not 20,001 INSERTs.
    """
    auditlog.register(model, include_fields=fields, m2m_fields=())
    _client_of[model] = client_of
    if not cascades_logged:
        post_delete.disconnect(
            sender=model, dispatch_uid=auditlog._dispatch_uid(post_delete, log_delete)
        )
        post_delete.connect(_log_own_delete, sender=model, dispatch_uid=("history", model))


def _log_own_delete(sender, instance, origin=None, **kwargs) -> None:
    origin_model = origin.model if isinstance(origin, QuerySet) else type(origin)
    if origin is None or origin_model is sender:
        log_delete(sender, instance=instance, origin=origin, **kwargs)


def client_id_of(instance) -> int | None:
    client_of = _client_of.get(type(instance))
    return client_of(instance) if client_of else None
