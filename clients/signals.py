"""Model signals: turn saves and deletes from every path (pages, admin, API, shell) into
domain events, and apply the VIP rule."""

import threading
import weakref

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from clients import events
from clients.models import Client, Order
from clients.services import is_vip_email
from history.services import entry_record


@receiver(pre_save, sender=Client)
def apply_vip_rule(sender, instance: Client, update_fields=None, **kwargs) -> None:
    """Before the save, so the row is written with the flag and the history (whose receiver
    runs after this one) records it. A VIP set by hand is kept."""
    writes_vip = update_fields is None or "vip" in update_fields
    if writes_vip and not instance.vip and is_vip_email(instance.email):
        instance.vip = True


@receiver(post_save, sender=Client)
def mark_vip_client(sender, instance: Client, update_fields=None, **kwargs) -> None:
    """A save of named fields without `vip` (update_fields) cannot carry the flag: set it after,
    with update() (no second post_save, no cascade), and record it."""
    if not instance.vip and is_vip_email(instance.email):
        Client.objects.filter(pk=instance.pk).update(vip=True)
        instance.vip = True
        entry_record(instance=instance, event="", changes={"vip": [False, True]})


@receiver(post_save, sender=Client)
@receiver(post_delete, sender=Client)
def client_data_changed(sender, **kwargs) -> None:
    events.send_after_commit(events.clients_changed)


@receiver(post_delete, sender=Order)
def order_deleted(sender, **kwargs) -> None:
    events.send_after_commit(events.clients_changed, orders_only=True)


# The origin of the last bulk delete announced on this thread (see order_deleted_for_board).
_last_bulk_delete = threading.local()


@receiver(post_delete, sender=Order)
def order_deleted_for_board(sender, instance: Order, origin=None, **kwargs) -> None:
    """One order deleted: the board removes its card. A delete of many (a QuerySet, a client
    with its 20,000 orders) sends post_delete once per order, all with the same `origin`: it is
    announced once, with no order id, so the boards refresh instead of taking 20,000 events."""
    if origin is instance:
        events.send_after_commit(events.order_changed, order_id=instance.pk, deleted=True)
        return
    last = getattr(_last_bulk_delete, "origin", None)
    if last is not None and last() is origin:
        return
    _last_bulk_delete.origin = weakref.ref(origin) if origin is not None else None
    events.send_after_commit(events.order_changed, order_id=None, deleted=True)


@receiver(post_save, sender=Order)
def order_saved(sender, instance: Order, created: bool, **kwargs) -> None:
    events.send_after_commit(events.clients_changed, orders_only=True)
    if created:
        events.send_after_commit(events.order_created, order_id=instance.pk)
    events.send_after_commit(events.order_changed, order_id=instance.pk, deleted=False)
