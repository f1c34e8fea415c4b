"""The dashboard page, the landing page after login. Its figures come from the one selector,
through the cache (dashboard/cache.py); the page's script draws the charts and keeps the
figures live (dashboard/static/dashboard/dashboard.js)."""

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.views.generic import TemplateView

from dashboard.cache import cached_dashboard_stats
from dashboard.selectors import may_view_dashboard, visible_stats


class DashboardView(PermissionRequiredMixin, TemplateView):
    """Clients, orders by status, this month against the last, 12 months of orders and of new
    clients, the top clients. A user who may view only clients or only orders sees that half
    (dashboard.selectors.SECTIONS); one who may view neither gets the 403 page."""

    template_name = "dashboard/dashboard.html"

    def has_permission(self) -> bool:
        return may_view_dashboard(self.request.user)

    def get_context_data(self, **kwargs):
        stats = visible_stats(cached_dashboard_stats(), allowed=self.request.user.has_perm)
        return super().get_context_data(stats=stats, **kwargs)
