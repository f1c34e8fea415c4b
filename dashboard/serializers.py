"""The shape of /api/stats/, for its OpenAPI schema (drf-spectacular). The figures are already
plain JSON (dashboard.selectors), so these describe them and serialize nothing at run time."""

from rest_framework import serializers


class _Money(serializers.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(max_digits=16, decimal_places=2, coerce_to_string=True, **kwargs)


class ClientCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    vip = serializers.IntegerField()
    active = serializers.IntegerField(help_text="Clients with at least one order not DONE.")


class NewClientsMonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM, in the business time zone.")
    label = serializers.CharField(help_text="The month's name, in the request's language.")
    clients_count = serializers.IntegerField()


class OrderTotalsSerializer(serializers.Serializer):
    orders_count = serializers.IntegerField()
    amount = _Money()


class StatusTotalsSerializer(OrderTotalsSerializer):
    status = serializers.ChoiceField(choices=["NEW", "IN_PROGRESS", "DONE"])
    label = serializers.CharField()


class MonthSerializer(OrderTotalsSerializer):
    month = serializers.CharField(help_text="YYYY-MM, in the business time zone.")
    label = serializers.CharField()


class ChangeSerializer(serializers.Serializer):
    orders_count_pct = serializers.FloatField(
        allow_null=True, help_text="This month against last month, in %; null if last was 0."
    )
    amount_pct = serializers.FloatField(allow_null=True)


class TopClientSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.CharField(help_text="The client's page.")
    orders_count = serializers.IntegerField()
    orders_total = _Money()


class StatsSerializer(serializers.Serializer):
    """The dashboard's figures. A section the caller may not see is null: the clients' need
    clients.view_client, the orders' clients.view_order, the top clients both."""

    time_zone = serializers.CharField(help_text="The zone the months are counted in.")
    clients = ClientCountsSerializer(allow_null=True)
    new_clients = NewClientsMonthSerializer(many=True, allow_null=True)
    orders = OrderTotalsSerializer(allow_null=True, help_text="All orders.")
    orders_by_status = StatusTotalsSerializer(many=True, allow_null=True)
    this_month = MonthSerializer(allow_null=True, help_text="So far.")
    last_month = MonthSerializer(allow_null=True)
    change = ChangeSerializer(allow_null=True)
    months = MonthSerializer(many=True, allow_null=True, help_text="The last 12, oldest first.")
    top_clients = TopClientSerializer(many=True, allow_null=True, help_text="By total, 10.")
