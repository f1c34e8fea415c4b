from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce, Lower, Round
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clients.fields import AvatarField, LowercaseEmailField
from clients.validators import (
    avatar_upload_to,
    reject_example_domain,
    validate_avatar,
    validate_phone,
)

ZERO = Decimal("0.00")
# The one status that does not count as open (Order.Status.DONE; the triggers of migration
# 0007 spell it too).
OPEN_EXCLUDED = "DONE"
# The longest text a search can find: the email's max_length (a name is at most 200).
SEARCH_MAX_LENGTH = 254
# Client's fields that only the database's triggers write (clients/triggers.py).
ROLLUP_FIELDS = frozenset({"orders_count", "orders_total", "open_orders_count"})


def name_or_email_search(queryset: models.QuerySet, q: str) -> models.QuerySet:
    """The rows of `queryset` (clients, trashed clients) whose name or email contains `q`,
    case-insensitively; a blank query matches every row."""
    q = (q or "").strip()
    if not q:
        return queryset
    if "\x00" in q or len(q) > SEARCH_MAX_LENGTH:
        # No stored text holds a NUL (PostgreSQL refuses one even in a query parameter,
        # which would be a 500), nor contains a text longer than the longest field (and
        # SQLite refuses a LIKE pattern of 50,000 characters: a 500 too): such a query
        # matches nobody.
        return queryset.none()
    return queryset.filter(Q(name__icontains=q) | Q(email__icontains=q))


class ClientQuerySet(models.QuerySet):
    def search(self, q: str) -> "ClientQuerySet":
        """Name or email contains `q`, case-insensitively; a blank query matches everyone."""
        return name_or_email_search(self, q)

    def active(self) -> "ClientQuerySet":
        """Clients with at least one order not yet DONE: the stored `open_orders_count`, read
        through the partial index `client_active_newest_first`."""
        return self.filter(open_orders_count__gt=0)

    def with_computed_totals(self) -> "ClientQuerySet":
        """Annotate `computed_orders_count`, `computed_orders_total` and
        `computed_open_orders_count`, aggregated afresh from the orders (the spec's
        `annotate(Count, Sum)`).

        The reference the stored roll-ups (`orders_count`, `orders_total`, `open_orders_count`)
        are checked against (clients.totals, `manage.py check_totals`); pages read the stored
        fields, which need no GROUP BY.
        """
        return self.annotate(
            computed_orders_count=Count("orders"),
            # Round: SQLite sums decimals as floats (149.999999999998 for a thousand 0.15s);
            # on PostgreSQL the sum is exact and the rounding a no-op.
            computed_orders_total=Round(
                Coalesce(Sum("orders__amount"), Value(ZERO)),
                2,
                output_field=DecimalField(max_digits=18, decimal_places=2),
            ),
            computed_open_orders_count=Count("orders", filter=~Q(orders__status=OPEN_EXCLUDED)),
        )


class Client(models.Model):
    """A customer of the sales team. The email is the client's identity: unique, lowercased."""

    name = models.CharField(_("name"), max_length=200)
    email = LowercaseEmailField(
        _("email"),
        max_length=254,
        unique=True,
        validators=[reject_example_domain],
        error_messages={"unique": _("A client with this email already exists.")},
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True, validators=[validate_phone])
    avatar = AvatarField(
        _("photo"), upload_to=avatar_upload_to, blank=True, validators=[validate_avatar]
    )
    vip = models.BooleanField(_("VIP"), default=False, db_index=True)
    created_at = models.DateTimeField(
        pgettext_lazy("client field", "added"), auto_now_add=True, db_index=True
    )
    # Roll-ups of the client's orders, kept exact by database triggers on clients_order
    # (migration 0007) in the transaction of every write, whatever path made it: the ORM,
    # QuerySet.update(), the admin, raw SQL. App code never writes them.
    orders_count = models.PositiveIntegerField(_("orders"), default=0, editable=False)
    orders_total = models.DecimalField(
        _("orders total"), max_digits=18, decimal_places=2, default=ZERO, editable=False
    )
    open_orders_count = models.PositiveIntegerField(_("open orders"), default=0, editable=False)

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="client_newest_first"),
            # The list's sorts; each index is read forwards or backwards (both directions).
            models.Index(fields=["orders_total", "id"], name="client_by_orders_total"),
            models.Index(fields=["orders_count", "id"], name="client_by_orders_count"),
            models.Index(fields=["name", "id"], name="client_by_name"),
            # active() and ?vip=1: those clients, newest first, without a scan.
            models.Index(
                fields=["-created_at", "-id"],
                condition=Q(open_orders_count__gt=0),
                name="client_active_newest_first",
            ),
            models.Index(
                fields=["-created_at", "-id"], condition=Q(vip=True), name="client_vip_newest_first"
            ),
        ]
        # Granted apart from change/delete (clients/permissions.py): merging deletes a client
        # and moves its orders; exporting downloads every client's personal data at once;
        # importing writes thousands of clients and orders in one go.
        permissions = [
            ("merge_client", "Can merge two clients"),
            ("export_client", "Can export clients"),
            ("import_client", "Can import clients and orders"),
        ]
        constraints = [
            # With `email` unique, this makes uniqueness case-insensitive in the database
            # itself: no path (raw SQL included) can store A@x.com beside a@x.com.
            models.CheckConstraint(
                condition=Q(email=Lower("email")),
                name="client_email_lowercase",
                violation_error_message=_("The email must be stored in lowercase."),
            ),
            models.CheckConstraint(
                condition=Q(open_orders_count__lte=models.F("orders_count")),
                name="client_open_orders_within_orders",
            ),
            models.CheckConstraint(
                condition=Q(orders_total__gte=0), name="client_orders_total_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def save(self, *args, update_fields=None, **kwargs):
        # The roll-ups belong to the triggers: a client read before an order was written and
        # saved after it (the edit page, the API, the admin, a script) would write its stale
        # copy back over the trigger's values. An update therefore names every other field.
        if update_fields is None and not self._state.adding:
            update_fields = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in ROLLUP_FIELDS
            ]
        super().save(*args, update_fields=update_fields, **kwargs)

    @property
    def initials(self) -> str:
        words = [w for w in self.name.split() if w[:1].isalnum()]
        return "".join(w[0] for w in words[:2]).upper() or "?"


class Order(models.Model):
    """Something a client bought or is buying."""

    class Status(models.TextChoices):
        # A context of their own: "New" and "Done" are other apps' words too (imports,
        # timeline), whose Russian differs in gender and number, and the first installed
        # app's translation of a shared msgid wins everywhere.
        NEW = "NEW", pgettext_lazy("order status", "New")
        IN_PROGRESS = "IN_PROGRESS", pgettext_lazy("order status", "In progress")
        DONE = "DONE", pgettext_lazy("order status", "Done")

    # Indexed by `order_client_newest_first` below.
    client = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        related_name="orders",
        db_index=False,
        verbose_name=_("client"),
    )
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(
        _("amount"), max_digits=12, decimal_places=2, validators=[MinValueValidator(ZERO)]
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW
    )
    # Indexed below, with the id. A default rather than auto_now_add: an imported order keeps
    # the date of the system it came from (imports/rows.py); no form or API edits it.
    created_at = models.DateTimeField(
        pgettext_lazy("order field", "created"), default=timezone.now, editable=False
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            # A client's orders, newest first (the client page, /orders/?client=), and the
            # foreign key's lookups and cascade. It replaced `order_client_totals`, which
            # carried the amounts for the totals' GROUP BY before the totals were stored.
            models.Index(fields=["client", "-created_at", "-id"], name="order_client_newest_first"),
            # /orders/ and the board: all orders or one status's, by date or by amount.
            models.Index(fields=["-created_at", "-id"], name="order_newest_first"),
            models.Index(fields=["amount", "id"], name="order_by_amount"),
            models.Index(fields=["status", "-created_at", "-id"], name="order_status_newest_first"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="order_amount_not_negative",
                violation_error_message=_("The amount cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["NEW", "IN_PROGRESS", "DONE"]),
                name="order_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.amount})"


class SnapshotEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder, but a datetime keeps its microseconds (Django's cuts them to
    milliseconds): a restored row has the dates it had (the timeline pages by them)."""

    def default(self, o):
        if isinstance(o, datetime):
            return o.isoformat()
        return super().default(o)


class TrashedClient(models.Model):
    """A deleted client in the trash: its row and the rows that its delete would have taken
    with it (orders, notes, tasks), as they were, restorable until the daily purge
    (clients.services: client_trash, client_restore, trash_purge).

    The rows leave their tables rather than staying behind a "deleted" flag: every list,
    search, total, export, report, dashboard and live page then leaves a trashed client out
    with no filter to remember, the roll-up triggers take its orders out of every total as a
    delete does, and a new client may take its email. `rows` holds each model's values by
    column name ({"clients.order": {"columns": [...], "values": [[...], ...]}}), so a row
    trashed before a migration that adds a field comes back with that field's default.
    """

    client_id = models.BigIntegerField(_("client id"), unique=True)  # the id it gets back
    name = models.CharField(_("name"), max_length=200)
    email = models.CharField(_("email"), max_length=254)
    avatar = models.CharField(
        _("photo"), max_length=100, blank=True
    )  # its file stays until the purge
    orders_count = models.PositiveIntegerField(_("orders"), default=0)
    orders_total = models.DecimalField(
        _("orders total"), max_digits=18, decimal_places=2, default=ZERO
    )
    deleted_at = models.DateTimeField(_("deleted at"), default=timezone.now)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("deleted by"),
    )
    rows = models.JSONField(_("rows"), encoder=SnapshotEncoder, default=dict, editable=False)

    class Meta:
        ordering = ["-deleted_at", "-id"]
        verbose_name = _("trashed client")
        verbose_name_plural = _("trash")
        # Restoring is the delete permission's (clients/permissions.py), emptying the
        # superusers': no permissions of its own.
        default_permissions = ()
        indexes = [
            # The trash page, newest first, and the purge's "older than".
            models.Index(fields=["-deleted_at", "-id"], name="trash_newest_first"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def restorable_until(self):
        return self.deleted_at + timedelta(days=settings.TRASH_DAYS)
