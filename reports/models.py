from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ReportRun(models.Model):
    """The record of one month's order report: at most one row per month.

    The row is the claim that makes the report go out once (reports.services.monthly_report_send):
    whoever inserts it, or atomically takes over a FAILED run or a PENDING one whose lease has
    run out (a killed worker), holds `claim_token` and is the only one who may send and mark
    it SENT. Everyone else finds it SENT (done) or PENDING within its lease (in progress).
    """

    class Status(models.TextChoices):
        PENDING = "PENDING", _("Being sent")
        SENT = "SENT", _("Sent")
        FAILED = "FAILED", _("Failed (will be retried)")

    month = models.DateField(
        _("month"), unique=True, help_text=_("The first day of the month reported on.")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    claim_token = models.UUIDField(_("claim token"), null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(_("claimed at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    row_count = models.PositiveIntegerField(_("row count"), null=True, blank=True)
    total_amount = models.DecimalField(
        _("total amount"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    recipients = models.TextField(_("recipients"), blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["-month"]
        verbose_name = _("report run")
        verbose_name_plural = _("report runs")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["PENDING", "SENT", "FAILED"]),
                name="reportrun_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="SENT") | Q(sent_at__isnull=False),
                name="reportrun_sent_has_sent_at",
                violation_error_message=_("A sent report must record when it was sent."),
            ),
        ]

    def __str__(self) -> str:
        return _("Report %(month)s (%(status)s)") % {
            "month": f"{self.month:%Y-%m}",
            "status": self.get_status_display(),
        }
