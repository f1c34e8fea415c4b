from django.core.management.base import BaseCommand, CommandError

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
                f"Roll-up triggers missing: {', '.join(sorted(missing))}. "
                "Run `manage.py migrate` to install them."
            )
        drift = rollups_drift()
        for item in drift:
            self.stdout.write(str(item))
        if not drift:
            self.stdout.write(self.style.SUCCESS("No drift: the dashboard's roll-ups are exact."))
        elif fix:
            rollups_rebuild()
            self.stdout.write(self.style.SUCCESS(f"Rebuilt: {len(drift)} bucket(s) had drifted."))
        if missing or (drift and not fix):
            raise CommandError(
                f"{len(drift)} bucket(s) drifted" + ("; run with --fix" if drift else "")
            )
