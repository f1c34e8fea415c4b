from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    """Importing clients and orders from CSV and Excel: check, preview, commit, cancel, revert,
    and the history of imports (/imports/)."""

    name = "imports"
    verbose_name = _("Imports")
