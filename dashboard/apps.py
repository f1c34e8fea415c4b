from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """The landing page's figures (/dashboard/, /api/stats/) and the roll-ups that make them
    cheap: orders and clients summed per time bucket by database triggers."""

    name = "dashboard"
    verbose_name = _("Dashboard")

    def ready(self) -> None:
        from dashboard.triggers import ROLLUP_TRIGGERS

        # Once the roll-up tables exist in the migration state (migration 0001).
        ROLLUP_TRIGGERS.keep_in_force(self, ready=_has_rollup_tables)


def _has_rollup_tables(apps) -> bool:
    try:
        apps.get_model("dashboard", "OrderRollup")
    except LookupError:
        return False
    return True
