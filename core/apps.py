from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What the apps share: health, protected media, base templates and vendored assets."""

    name = "core"

    def ready(self) -> None:
        # Connects the receivers that retire cached permissions, in every process (a shell that
        # changes a group authenticates nobody, so would never import the backend).
        from core import auth  # noqa: F401
