from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """Importing clients and orders from CSV and Excel: check, preview, commit, cancel, revert,
    and the history of imports (/imports/)."""

    name = "imports"
