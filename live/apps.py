from django.apps import AppConfig


class LiveConfig(AppConfig):
    """Live updates on the client list, the orders board and a client's timeline: the
    websocket consumers and the broadcaster that feeds them."""

    name = "live"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from clients import events
        from live import broadcast
        from timeline.events import timeline_changed

        # Domain events, not model signals: they arrive once the order is committed, from every
        # path (pages, admin, API, shell), and a failing receiver is logged, never raised.
        events.order_created.connect(broadcast.on_order_created, dispatch_uid="live.order")
        events.order_changed.connect(broadcast.on_order_changed, dispatch_uid="live.board")
        events.clients_changed.connect(broadcast.on_clients_changed, dispatch_uid="live.board.bulk")
        timeline_changed.connect(broadcast.on_timeline_changed, dispatch_uid="live.timeline")
        user_logged_out.connect(broadcast.on_user_logged_out, dispatch_uid="live.logout")

        # Build the channel layer now, in every process that may save an order (web, worker):
        # importing channels_redis took 1.8 s on a busy machine, and the first order's event
        # would otherwise wait for it. Building it does not connect to Redis.
        from channels.layers import get_channel_layer

        get_channel_layer()
