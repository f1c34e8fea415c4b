from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from api import views as api_views
from core import preferences
from core import views as core_views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard:index"), name="home"),
    path("health/", core_views.health, name="health"),
    path("health/ready/", core_views.health_ready, name="health-ready"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/profile/", core_views.ProfileView.as_view(), name="account-profile"),
    path("i18n/setlang/", preferences.set_language, name="set_language"),
    path("accounts/token/", api_views.account_token, name="account-token"),
    path("accounts/token/revoke/", api_views.account_token_revoke, name="account-token-revoke"),
    path("media/<path:path>", core_views.protected_media, name="media"),
    path("dashboard/", include("dashboard.urls")),
    # /clients/import/, /orders/import/ and /imports/: before the clients' and orders' URLs.
    path("", include("imports.urls")),
    # /notes/, /tasks/ and a client's notes, tasks and timeline (/clients/<id>/notes/…).
    path("", include("timeline.urls")),
    path("clients/", include("clients.urls")),
    path("orders/", include("orders.urls")),
    path("api/", include("api.urls")),
    path("admin/", admin.site.urls),
]

if "debug_toolbar" in settings.INSTALLED_APPS:  # development only (DJANGO_DEBUG=1)
    from debug_toolbar.toolbar import debug_toolbar_urls

    urlpatterns += debug_toolbar_urls()
