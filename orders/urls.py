from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("", views.OrderListView.as_view(), name="list"),
    path("board/", views.OrderBoardView.as_view(), name="board"),
    path("board/columns/", views.OrderBoardDataView.as_view(), name="board-columns"),
    path("<int:pk>/move/", views.OrderMoveView.as_view(), name="move"),
]
