from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clients.services import missing_triggers, totals_drift, totals_fix


class Command(BaseCommand):
    help = (
        "Compare every client's stored order roll-ups (orders_count, orders_total, "
        "open_orders_count) with a fresh aggregate of its orders and report each drift; "
        "--fix recomputes the drifted ones. Exits 1 on drift left unfixed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--fix", action="store_true", help="Recompute the roll-ups of drifted clients."
        )

    def handle(self, *args, fix=False, **options):
        missing = missing_triggers()
        if missing:
            # Nothing keeps the totals: say so loudly, whatever the drift is today.
            self.stderr.write(
                _(
                    "Roll-up triggers missing: %(triggers)s. "
                    "Run `manage.py migrate` to install them."
                )
                % {"triggers": ", ".join(sorted(missing))}
            )
        drift = totals_drift()
        for item in drift:
            self.stdout.write(str(item))
        if not drift:
            self.stdout.write(self.style.SUCCESS(_("No drift: every client's totals are exact.")))
        elif fix:
            fixed = totals_fix([item.client_id for item in drift])
            self.stdout.write(
                self.style.SUCCESS(
                    _("Fixed %(fixed)d of %(drifted)d drifted.")
                    % {"fixed": fixed, "drifted": len(drift)}
                )
            )
        if missing or (drift and not fix):
            # Two whole sentences rather than one and a suffix: the word order may change.
            if drift:
                text = ngettext(
                    "%(count)d client(s) drifted; run with --fix",
                    "%(count)d client(s) drifted; run with --fix",
                    len(drift),
                )
            else:
                text = ngettext(
                    "%(count)d client(s) drifted", "%(count)d client(s) drifted", len(drift)
                )
            raise CommandError(text % {"count": len(drift)})
