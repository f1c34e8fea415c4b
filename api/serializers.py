from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from clients.fields import LowercaseEmailField
from clients.models import Client, Order


class LowercaseEmailSerializerField(serializers.EmailField):
    """Lowercases before the validators run, as the form does: the uniqueness check, the
    example.com rule and the response all see the stored value."""

    def to_internal_value(self, data):
        return super().to_internal_value(data).lower()


class ClientSerializer(serializers.ModelSerializer):
    """A client with its order totals. The validation rules (example.com, phone, avatar image,
    unique email) come from the model fields, the same rules the forms and the admin apply.

    `orders_count` / `orders_total` are the roll-ups stored on the client (kept by database
    triggers, clients/triggers.py): read-only, and no query of their own.
    """

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        LowercaseEmailField: LowercaseEmailSerializerField,
    }

    orders_count = serializers.IntegerField(read_only=True)
    # No digit limit on output: DRF would raise (a 500) on a sum wider than max_digits.
    orders_total = serializers.DecimalField(max_digits=None, decimal_places=2, read_only=True)

    class Meta:
        model = Client
        fields = [
            "id",
            "name",
            "email",
            "phone",
            "vip",
            "avatar",
            "created_at",
            "orders_count",
            "orders_total",
        ]
        extra_kwargs = {
            # Out: an absolute URL or null. In: a multipart image upload, or null to remove it.
            "avatar": {"allow_null": True},
        }


class OrderSerializer(serializers.ModelSerializer):
    """An order; `client` is the client's id. Amount: a decimal string, >= 0, 2 places."""

    class Meta:
        model = Order
        fields = ["id", "client", "title", "amount", "status", "created_at"]


class ClientMergeSerializer(serializers.Serializer):
    """`POST /api/clients/<id>/merge/`: the client in the URL is kept, `source` is merged into
    it and deleted."""

    source = serializers.IntegerField(min_value=1, help_text=_("The duplicate to merge away."))


class ClientRestoreSerializer(serializers.Serializer):
    """`POST /api/clients/<id>/restore/`: the trashed client `<id>` comes back; with `into`,
    what it held is merged into that live client (when one has taken its email)."""

    into = serializers.IntegerField(
        min_value=1, required=False, help_text=_("A live client to merge the trashed one into.")
    )


class ClientMergeResultSerializer(serializers.Serializer):
    orders_moved = serializers.IntegerField()
    client = ClientSerializer()
