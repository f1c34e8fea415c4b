from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce, Lower

from clients.fields import LowercaseEmailField
from clients.validators import (
    avatar_upload_to,
    reject_example_domain,
    validate_avatar,
    validate_phone,
)

ZERO = Decimal("0.00")


class ClientQuerySet(models.QuerySet):
    def search(self, q: str) -> "ClientQuerySet":
        """Name or email contains `q`, case-insensitively; a blank query matches everyone."""
        q = (q or "").strip()
        if not q:
            return self
        if "\x00" in q:
            # No stored text holds a NUL (PostgreSQL refuses one even in a query parameter,
            # which would be a 500): such a query matches nobody.
            return self.none()
        return self.filter(Q(name__icontains=q) | Q(email__icontains=q))

    def active(self) -> "ClientQuerySet":
        """Clients with at least one order not yet DONE, each once (a semi-join, no DISTINCT)."""
        return self.filter(
            pk__in=Order.objects.exclude(status=Order.Status.DONE).values("client_id")
        )

    def with_order_totals(self) -> "ClientQuerySet":
        """Annotate `orders_count` and `orders_total` (0 and 0.00 for a client with no orders).

        Apply it to a page of clients, not to the whole table: the GROUP BY then touches only
        that page's orders (clients.selectors.with_totals_for_page).
        """
        return self.annotate(
            orders_count=Count("orders"),
            orders_total=Coalesce(
                Sum("orders__amount"),
                Value(ZERO),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            ),
        )


class Client(models.Model):
    """A customer of the sales team. The email is the client's identity: unique, lowercased."""

    name = models.CharField(max_length=200)
    email = LowercaseEmailField(
        max_length=254,
        unique=True,
        validators=[reject_example_domain],
        error_messages={"unique": "A client with this email already exists."},
    )
    phone = models.CharField(max_length=32, blank=True, validators=[validate_phone])
    avatar = models.ImageField(upload_to=avatar_upload_to, blank=True, validators=[validate_avatar])
    vip = models.BooleanField("VIP", default=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at", "-id"], name="client_newest_first")]
        # Granted apart from change/delete (clients/permissions.py): merging deletes a client
        # and moves its orders; exporting downloads every client's personal data at once.
        permissions = [
            ("merge_client", "Can merge two clients"),
            ("export_client", "Can export clients"),
        ]
        constraints = [
            # With `email` unique, this makes uniqueness case-insensitive in the database
            # itself: no path (raw SQL included) can store A@x.com beside a@x.com.
            models.CheckConstraint(
                condition=Q(email=Lower("email")),
                name="client_email_lowercase",
                violation_error_message="The email must be stored in lowercase.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def initials(self) -> str:
        words = [w for w in self.name.split() if w[:1].isalnum()]
        return "".join(w[0] for w in words[:2]).upper() or "?"


class Order(models.Model):
    """Something a client bought or is buying."""

    class Status(models.TextChoices):
        NEW = "NEW", "New"
        IN_PROGRESS = "IN_PROGRESS", "In progress"
        DONE = "DONE", "Done"

    # Indexed by `order_client_totals` below, which covers the totals too.
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="orders", db_index=False
    )
    title = models.CharField(max_length=200)
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(ZERO)]
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.NEW, db_index=True
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # A client's orders, carrying what the totals need (COUNT(id), SUM(amount)): on
            # PostgreSQL the list's and the export's GROUP BY read this index alone, never the
            # table (docs/performance.md#covering-index). Other databases build it without
            # INCLUDE.
            models.Index(fields=["client"], include=["amount", "id"], name="order_client_totals"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="order_amount_not_negative",
                violation_error_message="The amount cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["NEW", "IN_PROGRESS", "DONE"]),
                name="order_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.amount})"
