from django.conf import settings
from rest_framework.permissions import SAFE_METHODS, BasePermission

from clients.services import can_merge_clients


class IsStaffOrReadOnly(BasePermission):
    """Reads for everyone (or, with settings.API_READ_REQUIRES_LOGIN, for logged-in users);
    create, update and delete for active staff only.

    The setting is read per request, so it can be flipped without touching the views.
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if request.method in SAFE_METHODS:
            return not settings.API_READ_REQUIRES_LOGIN or bool(user and user.is_authenticated)
        return bool(user and user.is_authenticated and user.is_active and user.is_staff)


class CanMergeClients(BasePermission):
    """Merging is staff's (or holders of `clients.merge_client`), as on the merge page."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and can_merge_clients(user))
