from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from backups.services import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database and the media folder into one file in BACKUP_DIR, keeping the "
        "last BACKUP_KEEP backups."
    )

    def handle(self, *args, **options):
        try:
            result = backup_create()
        except BackupError as error:
            raise CommandError(str(error)) from None
        manifest = result.manifest
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Backup written: %(path)s (%(size)s, %(seconds).1f s): %(clients)s "
                    "clients, %(orders)s orders, %(media)s media files."
                )
                % {
                    "path": result.path,
                    "size": _human(result.size),
                    "seconds": result.seconds,
                    "clients": manifest["tables"].get("clients_client", 0),
                    "orders": manifest["tables"].get("clients_order", 0),
                    "media": manifest["media"]["files"],
                }
            )
        )
        for path in result.pruned:
            self.stdout.write(
                _("Pruned %(path)s (keeping the last %(keep)s).")
                % {"path": path, "keep": settings.BACKUP_KEEP}
            )


def _human(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)
