from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from backups.services import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into an empty database (new, or only "
        "migrated) and an empty media folder, then check it against the backup's counts."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The backup, e.g. /data/backups/mini-crm-….tar")

    def handle(self, *args, file: str, **options):
        try:
            result = backup_restore(Path(file))
        except BackupError as error:
            raise CommandError(str(error)) from None
        manifest = result.manifest
        tables = len(manifest["tables"])
        rows = sum(manifest["tables"].values())
        media = result.media_files
        # Each count's phrase is translated whole (its plural form), then placed in the sentence.
        counts = {
            "tables": ngettext("%(count)s tables", "%(count)s tables", tables) % {"count": tables},
            "rows": ngettext("%(count)s rows", "%(count)s rows", rows) % {"count": rows},
            "media": ngettext("%(count)s media files", "%(count)s media files", media)
            % {"count": media},
        }
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Restored %(file)s (made %(created)s) in %(seconds).1f s: %(tables)s, "
                    "%(rows)s and %(media)s, all matching the backup."
                )
                % {
                    "file": file,
                    "created": manifest["created_at"],
                    "seconds": result.seconds,
                    **counts,
                }
            )
        )
        if not result.cache_cleared:
            self.stderr.write(
                _(
                    "The cache could not be cleared (see the log): until its entries expire, "
                    "within five minutes, pages may show the data the restore replaced."
                )
            )
        if result.pending_migrations:
            pending = len(result.pending_migrations)
            self.stdout.write(
                ngettext(
                    "The backup predates %(count)s migration(s) of this version: run "
                    "`manage.py migrate` next.",
                    "The backup predates %(count)s migration(s) of this version: run "
                    "`manage.py migrate` next.",
                    pending,
                )
                % {"count": pending}
            )
