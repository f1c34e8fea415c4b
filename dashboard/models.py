"""Roll-ups of the orders and the clients per time bucket, kept exact by database triggers
(dashboard/triggers.py) so the dashboard sums a few thousand rows instead of a million orders.

**The buckets.** A dashboard month is a month in the business time zone (settings.TIME_ZONE),
whose first instant, in UTC, lies within 14 hours of the first instant of the UTC month (every
zone's offset is within ±14 h). So each UTC month M is cut into one bucket per hour for the 28
hours around its start (M − 14 h to M + 14 h), where any zone's month boundary can fall, and
one bucket for the rest of it (M + 14 h up to 14 h before the next month). Every bucket then
lies entirely inside one local month of every whole-hour zone: a month's figure is the sum of
the buckets whose start lies in [its first instant, the next month's first instant), exact,
from about 29 rows a month (an hourly roll-up would need 720). A zone with a half-hour offset
(Asia/Kolkata) would see up to 30 minutes at each boundary counted in the neighbouring month.

A bucket is named by its first instant (`bucket`, UTC): `bucket_start()` below, and the same
rule spelled in SQL for the triggers and as an ORM expression for the drift check.
"""

from datetime import UTC, datetime, timedelta

from django.db import models
from django.db.models import Case, DateTimeField, ExpressionWrapper, F, Q, Value, When
from django.db.models.functions import TruncHour, TruncMonth
from django.utils.translation import gettext_lazy as _

from clients.models import Order

# Every time zone's UTC offset is within this: its month boundaries fall in the hourly buckets.
EDGE = timedelta(hours=14)


def bucket_start(moment: datetime) -> datetime:
    """The first instant (UTC) of the bucket that holds `moment` (an aware datetime)."""
    moment = moment.astimezone(UTC)
    shifted = moment + EDGE
    month = shifted.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if moment < month + EDGE:
        return moment.replace(minute=0, second=0, microsecond=0)
    return month + EDGE


def bucket_expression(field: str):
    """bucket_start() of the datetime field `field`, computed by the database (the drift
    check's fresh aggregate)."""
    month = TruncMonth(
        ExpressionWrapper(F(field) + Value(EDGE), output_field=DateTimeField()), tzinfo=UTC
    )
    return Case(
        When(Q(**{f"{field}__lt": month + Value(EDGE)}), then=TruncHour(field, tzinfo=UTC)),
        default=ExpressionWrapper(month + Value(EDGE), output_field=DateTimeField()),
        output_field=DateTimeField(),
    )


class OrderRollup(models.Model):
    """The orders created in one bucket (by `Order.created_at`) that now have one status: how
    many, and their amounts' sum. Written only by the triggers on clients_order."""

    bucket = models.DateTimeField(_("bucket"))
    status = models.CharField(_("status"), max_length=16, choices=Order.Status.choices)
    orders_count = models.BigIntegerField(_("orders"), default=0)
    amount = models.DecimalField(_("amount"), max_digits=20, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("order rollup")
        verbose_name_plural = _("order rollups")
        constraints = [
            # The triggers' upsert target; its index also serves the dashboard's range.
            models.UniqueConstraint(fields=["bucket", "status"], name="order_rollup_unique"),
            models.CheckConstraint(
                condition=Q(orders_count__gte=0), name="order_rollup_count_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="order_rollup_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bucket:%Y-%m-%d %H:%M} {self.status}: {self.orders_count}, {self.amount}"


class ClientRollup(models.Model):
    """The clients created in one bucket (by `Client.created_at`): how many, and how many of them
    are VIP and active (an open order) now. Written only by the triggers on clients_client."""

    bucket = models.DateTimeField(_("bucket"), unique=True)
    clients_count = models.BigIntegerField(_("clients"), default=0)
    vip_count = models.BigIntegerField(_("VIP clients"), default=0)
    active_count = models.BigIntegerField(_("active clients"), default=0)

    class Meta:
        verbose_name = _("client rollup")
        verbose_name_plural = _("client rollups")
        constraints = [
            models.CheckConstraint(
                condition=Q(vip_count__gte=0, active_count__gte=0)
                & Q(vip_count__lte=F("clients_count"), active_count__lte=F("clients_count")),
                name="client_rollup_counts_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bucket:%Y-%m-%d %H:%M}: {self.clients_count}"
