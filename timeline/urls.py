from django.urls import path

from timeline import views

app_name = "timeline"

urlpatterns = [
    path("notes/", views.NoteSearchView.as_view(), name="notes"),
    path("tasks/", views.TaskListView.as_view(), name="tasks"),
    path("tasks/<int:task_id>/edit/", views.TaskUpdateView.as_view(), name="task_edit"),
    path("tasks/<int:task_id>/done/", views.TaskDoneView.as_view(), name="task_done"),
    path("tasks/<int:task_id>/delete/", views.TaskDeleteView.as_view(), name="task_delete"),
    path("clients/<int:pk>/timeline/", views.ClientTimelineView.as_view(), name="client"),
    path("clients/<int:pk>/notes/add/", views.NoteCreateView.as_view(), name="note_add"),
    path(
        "clients/<int:pk>/notes/<int:note_id>/edit/",
        views.NoteUpdateView.as_view(),
        name="note_edit",
    ),
    path(
        "clients/<int:pk>/notes/<int:note_id>/delete/",
        views.NoteDeleteView.as_view(),
        name="note_delete",
    ),
    path("clients/<int:pk>/tasks/add/", views.TaskCreateView.as_view(), name="task_add"),
]
