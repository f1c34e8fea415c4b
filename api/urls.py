from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from api import views

app_name = "api"

router = DefaultRouter()
router.register("clients", views.ClientViewSet, basename="client")
router.register("orders", views.OrderViewSet, basename="order")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", views.SwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("stats/", include("dashboard.api")),  # the dashboard's figures (dashboard/api.py)
    # Imports (imports/api.py) before the router, whose `clients/<pk>/` would take
    # `clients/import/` for a client's id.
    path("", include("imports.api")),
    path("", include("api.history")),  # /api/clients/<id>/history/ (api/history.py)
    path("", include("timeline.api")),  # /api/notes/, /api/tasks/ (timeline/api.py)
    path("", include(router.urls)),
]
