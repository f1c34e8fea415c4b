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
