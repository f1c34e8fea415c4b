from django.urls import path

from live.consumers import (
    ClientsLiveConsumer,
    ClientTimelineConsumer,
    ImportProgressConsumer,
    OrdersLiveConsumer,
)

websocket_urlpatterns = [
    path("ws/clients/", ClientsLiveConsumer.as_asgi(), name="live-clients"),
    path("ws/orders/", OrdersLiveConsumer.as_asgi(), name="live-orders"),
    path("ws/clients/<int:pk>/", ClientTimelineConsumer.as_asgi(), name="live-client"),
    path("ws/imports/<int:pk>/", ImportProgressConsumer.as_asgi(), name="live-import"),
]
