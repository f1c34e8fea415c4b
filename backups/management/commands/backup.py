from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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
        clients = manifest["tables"].get("clients_client", 0)
        orders = manifest["tables"].get("clients_order", 0)
        media = manifest["media"]["files"]
        # Three counts, each with its own plural form: each phrase is translated whole, then
        # placed in the sentence. The English singulars read as they always have ("1 clients").
        counts = {
            "clients": ngettext("%(count)s clients", "%(count)s clients", clients)
            % {"count": clients},
            "orders": ngettext("%(count)s orders", "%(count)s orders", orders) % {"count": orders},
            "media": ngettext("%(count)s media files", "%(count)s media files", media)
            % {"count": media},
        }
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Backup written: %(path)s (%(size)s, %(seconds).1f s): %(clients)s, "
                    "%(orders)s, %(media)s."
                )
                % {
                    "path": result.path,
                    "size": _human(result.size),
                    "seconds": result.seconds,
                    **counts,
                }
            )
        )
        for path in result.pruned:
            self.stdout.write(
                _("Pruned %(path)s (keeping the last %(keep)s).")
                % {"path": path, "keep": settings.BACKUP_KEEP}
            )


def _human(size: int) -> str:
    if size < 1024:
        # The English singular is "1 bytes", as the command has always printed.
        return ngettext("%(size).0f bytes", "%(size).0f bytes", size) % {"size": size}
    size /= 1024
    for unit in (_("%(size).1f KB"), _("%(size).1f MB")):
        if size < 1024:
            return unit % {"size": size}
        size /= 1024
    return _("%(size).1f GB") % {"size": size}
