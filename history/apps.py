from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HistoryConfig(AppConfig):
    """The history of every change to clients, orders, notes and tasks: who, when, through what
    and what changed (django-auditlog, with this app's Entry as its log entry model)."""

    name = "history"
    verbose_name = _("History")
