from django.urls import path

from live.consumers import ClientsLiveConsumer

websocket_urlpatterns = [
    path("ws/clients/", ClientsLiveConsumer.as_asgi(), name="live-clients"),
]
