from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dashboard.services import missing_triggers, rollups_drift, rollups_rebuild


class Command(BaseCommand):
    help = (
        "Compare the dashboard's roll-ups (orders and clients per month bucket) with a fresh "
        "aggregate and report each drift; --fix rebuilds them. Exits 1 on drift left unfixed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="Rebuild the roll-ups.")

    def handle(self, *args, fix=False, **options):
        missing = missing_triggers()
        if missing:
            self.stderr.write(
                _("Roll-up triggers missing: %(names)s. Run `manage.py migrate` to install them.")
                % {"names": ", ".join(sorted(missing))}
            )
        drift = rollups_drift()
        for item in drift:
            self.stdout.write(str(item))
        if not drift:
            exact = _("No drift: the dashboard's roll-ups are exact.")
            self.stdout.write(self.style.SUCCESS(exact))
        elif fix:
            rollups_rebuild()
            # One English form for both ("bucket(s)", as before); other languages decline it.
            rebuilt = ngettext(
                "Rebuilt: %(count)d bucket(s) had drifted.",
                "Rebuilt: %(count)d bucket(s) had drifted.",
                len(drift),
            )
            self.stdout.write(self.style.SUCCESS(rebuilt % {"count": len(drift)}))
        if missing or (drift and not fix):
            if drift:
                error = ngettext(
                    "%(count)d bucket(s) drifted; run with --fix",
                    "%(count)d bucket(s) drifted; run with --fix",
                    len(drift),
                )
            else:
                error = ngettext(
                    "%(count)d bucket(s) drifted", "%(count)d bucket(s) drifted", len(drift)
                )
            raise CommandError(error % {"count": len(drift)})
