from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What the apps share: health, protected media, base templates and vendored assets."""

    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # Connects the receivers that retire cached permissions, in every process (a shell that
        # changes a group authenticates nobody, so would never import the backend).
        # Copies a user's language and time zone into the session at login, wherever it happens.
        from core import (
            auth,  # noqa: F401
            preferences,  # noqa: F401
        )
