"""/api/stats/: the dashboard's figures as JSON, from the same selector and cache as the page."""

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboard.cache import cached_dashboard_stats
from dashboard.selectors import may_view_dashboard, visible_stats
from dashboard.serializers import StatsSerializer


class CanViewStats(BasePermission):
    """The page's rule (view clients or orders), and the API's: API_PUBLIC_READ opens reads to
    anyone (api/permissions.py)."""

    def has_permission(self, request, view) -> bool:
        if settings.API_PUBLIC_READ:
            return True
        user = request.user
        return bool(user and user.is_authenticated and may_view_dashboard(user))


class StatsView(APIView):
    permission_classes = [CanViewStats]

    @extend_schema(
        operation_id="stats_retrieve",
        summary="The dashboard's figures",
        description=(
            "Clients (total, VIP, active), orders by status, this month against last month, "
            "the last 12 months of orders and of new clients (months in the business time "
            "zone), the top 10 clients by total. Amounts are strings with two decimal places. "
            "Sections the caller may not view are null. Never stale: any write retires the "
            "cached figures."
        ),
        responses=StatsSerializer,
        tags=["stats"],
    )
    def get(self, request):
        def allowed(permission: str) -> bool:
            return settings.API_PUBLIC_READ or request.user.has_perm(permission)

        return Response(visible_stats(cached_dashboard_stats(), allowed=allowed))


# Mounted by api/urls.py at /api/stats/, so the route is named `api:stats`.
urlpatterns = [path("", StatsView.as_view(), name="stats")]
