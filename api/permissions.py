from django.conf import settings
from rest_framework.permissions import SAFE_METHODS, BasePermission, DjangoModelPermissions

from clients.permissions import DELETE_CLIENT, IMPORT_CLIENT, MERGE_CLIENT


class ModelPermissions(DjangoModelPermissions):
    """Django's model permissions, the one rule of pages, admin and API: reading needs the
    model's view permission, create/update/delete its add/change/delete permission.

    Writes also need staff status (the spec's rule for the API), so a Sales account that may
    edit in the pages writes through the API only once an admin also made it staff. With
    settings.API_PUBLIC_READ, reads are open to anyone, logged in or not; writes never are.
    Both are read per request, so a setting can be flipped without touching the views.
    """

    perms_map = {
        **DjangoModelPermissions.perms_map,
        # DRF lets any authenticated user read; personal data needs the view permission.
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS and settings.API_PUBLIC_READ:
            return True
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        # Checked before the permissions, which cost two queries to read.
        if request.method not in SAFE_METHODS and not user.is_staff:
            return False
        return super().has_permission(request, view)


class CanMergeClients(BasePermission):
    """Merging deletes a client: a write, so staff status and `clients.merge_client`."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user and user.is_authenticated and user.is_staff and user.has_perm(MERGE_CLIENT)
        )


class CanRestoreClients(BasePermission):
    """Restoring from the trash undoes a delete: staff status and `clients.delete_client` (and
    `clients.merge_client` to merge into a live client, checked by the view)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user and user.is_authenticated and user.is_staff and user.has_perm(DELETE_CLIENT)
        )


class CanImport(BasePermission):
    """Imports write clients and orders in bulk (and revert deletes them): a write, so staff
    status and `clients.import_client`, reading an import's outcome included (its errors quote
    the file's cells: personal data)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and user.is_active
            and user.is_staff
            and user.has_perm(IMPORT_CLIENT)
        )
