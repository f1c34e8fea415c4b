"""Django's ModelBackend, with each user's permission set read from the cache.

Every page checks a permission, and ModelBackend reads it with two queries a request (the
user's own permissions, then their groups'): on the bench's list page that doubled the CPU a
request costs (docs/performance.md#permissions). Here the set is cached per user, beside the
version of all permissions, and both come back in one cache round trip. Any change to who holds
what (a user's groups or permissions, a group's permissions, a group or permission deleted)
bumps the version, so the next request of every user reads their set afresh; TIMEOUT bounds
what a change the signals cannot see (raw SQL) leaves behind. With the cache down, the backend
is ModelBackend.
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission, User
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete
from django.dispatch import receiver

from core.cache import version_bump, version_get

NAMESPACE = "permissions"
TIMEOUT = 300  # seconds


def _key(user_id: int) -> str:
    return f"{NAMESPACE}:user:{user_id}"


class CachedPermissionsBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        cacheable = obj is None and user_obj.is_active and not user_obj.is_anonymous
        if cacheable and not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = self._cached_permissions(user_obj)
        return super().get_all_permissions(user_obj, obj)

    def _cached_permissions(self, user_obj) -> set[str]:
        key, version_key = _key(user_obj.pk), f"{NAMESPACE}:version"
        found = cache.get_many([key, version_key])
        version = found.get(version_key) or version_get(NAMESPACE)  # None: the cache is down
        entry = found.get(key)
        if entry is not None and version is not None and entry[0] == version:
            return entry[1]
        permissions = {
            *self.get_user_permissions(user_obj),
            *self.get_group_permissions(user_obj),
        }
        if version is not None:
            cache.set(key, (version, permissions), TIMEOUT)
        return permissions


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="core.auth.groups")
@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="core.auth.user")
@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="core.auth.group")
@receiver(post_delete, sender=Group, dispatch_uid="core.auth.group_deleted")
@receiver(post_delete, sender=Permission, dispatch_uid="core.auth.permission_deleted")
def permissions_changed(*, action: str = "post_delete", **kwargs) -> None:
    if action.startswith("post_"):
        # Now, for the rest of this transaction, and again once it commits: a request that read
        # the old rows in between must not keep them cached under the new version.
        version_bump(NAMESPACE)
        transaction.on_commit(lambda: version_bump(NAMESPACE), robust=True)
