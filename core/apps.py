from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What the apps share: health, protected media, base templates and vendored assets."""

    name = "core"
