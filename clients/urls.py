from django.urls import path

from clients import merge_views, views

app_name = "clients"

urlpatterns = [
    path("", views.ClientListView.as_view(), name="list"),
    path("add/", views.ClientCreateView.as_view(), name="add"),
    path("<int:pk>/edit/", views.ClientUpdateView.as_view(), name="edit"),
    path("<int:pk>/edit/delete/", views.ClientDeleteView.as_view(), name="delete"),
    path("merge/", merge_views.ClientMergeView.as_view(), name="merge"),
]

# --- Client page, orders and CSV export (issue 3) ---------------------------------------------
from clients import export, order_views  # noqa: E402

urlpatterns += [
    path("export.csv", export.ClientExportView.as_view(), name="export"),
    path("<int:pk>/", order_views.ClientDetailView.as_view(), name="detail"),
    path("<int:pk>/orders/add/", order_views.OrderCreateView.as_view(), name="order_add"),
    path(
        "<int:pk>/orders/<int:order_id>/edit/",
        order_views.OrderUpdateView.as_view(),
        name="order_edit",
    ),
    path(
        "<int:pk>/orders/<int:order_id>/status/",
        order_views.OrderStatusView.as_view(),
        name="order_status",
    ),
]
