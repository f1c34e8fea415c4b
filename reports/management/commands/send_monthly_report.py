from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from reports.services import (
    ReportNotConfigured,
    month_is_over,
    monthly_report_send,
    parse_month,
    previous_month,
)


class Command(BaseCommand):
    help = (
        "E-mail the monthly order report now, in this process (no broker needed). "
        "A month already sent is skipped unless --force is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--month", help="The month to report on, as YYYY-MM (default: last month)."
        )
        parser.add_argument(
            "--force", action="store_true", help="Send again even if this month was sent."
        )

    def handle(self, *args, month=None, force=False, **options):
        if month:
            try:
                month_start = parse_month(month)
            except ValueError as error:
                raise CommandError(f"--month: {error}") from None
            if not month_is_over(month_start):
                # A partial month recorded as sent would block the real report on the 1st.
                raise CommandError(
                    _("--month: %(month)s is not over yet; pick a past month.") % {"month": month}
                )
        else:
            month_start = previous_month()
        try:
            outcome = monthly_report_send(month=month_start, force=force)
        except ReportNotConfigured as error:
            raise CommandError(str(error)) from None
        label = f"{month_start:%Y-%m}"
        if outcome.status == "sent":
            # The English singular is "1 orders", as the command has always printed.
            sent = ngettext(
                "Report for %(month)s sent: %(count)s orders, total %(total)s.",
                "Report for %(month)s sent: %(count)s orders, total %(total)s.",
                outcome.row_count,
            )
            values = {"month": label, "count": outcome.row_count, "total": outcome.total_amount}
            self.stdout.write(self.style.SUCCESS(sent % values))
        elif outcome.status == "already_sent":
            self.stdout.write(
                _("Report for %(month)s was already sent; --force sends it again.")
                % {"month": label}
            )
        else:
            raise CommandError(
                _("Report for %(month)s is being sent by another run right now.") % {"month": label}
            )
