from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API"

    def ready(self):
        from api import checks, signals  # noqa: F401  (registers the check and the receiver)
