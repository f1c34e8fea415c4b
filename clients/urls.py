from django.urls import path

from clients import views

app_name = "clients"

urlpatterns = [
    path("", views.ClientListView.as_view(), name="list"),
    path("add/", views.ClientCreateView.as_view(), name="add"),
    path("export.csv", views.ClientExportView.as_view(), name="export"),
    path("merge/", views.ClientMergeView.as_view(), name="merge"),
    path("trash/", views.TrashListView.as_view(), name="trash"),
    path("trash/empty/", views.TrashEmptyView.as_view(), name="trash_empty"),
    path("<int:pk>/", views.ClientDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.ClientUpdateView.as_view(), name="edit"),
    path("<int:pk>/edit/delete/", views.ClientDeleteView.as_view(), name="delete"),
    path("<int:pk>/restore/", views.ClientRestoreView.as_view(), name="restore"),
    path("<int:pk>/orders/add/", views.OrderCreateView.as_view(), name="order_add"),
    path(
        "<int:pk>/orders/<int:order_id>/edit/", views.OrderUpdateView.as_view(), name="order_edit"
    ),
    path(
        "<int:pk>/orders/<int:order_id>/status/",
        views.OrderStatusView.as_view(),
        name="order_status",
    ),
]
