"""The import pages. Mounted at the site's root (mini_crm/urls.py), before the clients' and
orders' URLs: the uploads live beside the lists they fill (/clients/import/, /orders/import/),
the imports themselves under /imports/."""

from django.urls import path

from imports import views
from imports.models import Import

app_name = "imports"

urlpatterns = [
    path(
        "clients/import/",
        views.ImportUploadView.as_view(kind=Import.Kind.CLIENTS),
        name="clients",
    ),
    path("orders/import/", views.ImportUploadView.as_view(kind=Import.Kind.ORDERS), name="orders"),
    path("imports/", views.ImportListView.as_view(), name="list"),
    path("imports/<int:pk>/", views.ImportDetailView.as_view(), name="detail"),
    path("imports/<int:pk>/progress/", views.ImportProgressView.as_view(), name="progress"),
    path("imports/<int:pk>/invalid.csv", views.ImportInvalidRowsView.as_view(), name="invalid"),
    path("imports/<int:pk>/check/", views.ImportCheckView.as_view(), name="check"),
    path("imports/<int:pk>/commit/", views.ImportCommitView.as_view(), name="commit"),
    path("imports/<int:pk>/cancel/", views.ImportCancelView.as_view(), name="cancel"),
    path("imports/<int:pk>/revert/", views.ImportRevertView.as_view(), name="revert"),
]
