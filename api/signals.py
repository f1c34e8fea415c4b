from django.conf import settings
from django.contrib.auth.hashers import is_password_usable
from django.db.models.signals import pre_save
from django.dispatch import receiver

from api.services import token_revoke

WATCHED = {"password", "is_active"}


@receiver(pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="api.revoke_token")
def revoke_token_on_credentials_change(sender, instance, raw=False, update_fields=None, **kwargs):
    """A token outlives no password and no deactivation: whoever knew the old password (or
    used the account) may have copied its token too, as the sessions Django ends then.

    A rehash is no change: logging in after a Django upgrade stores the same password under
    more hasher iterations (AbstractBaseUser.check_password saves only the password, with
    `_password` unset, which set_password would have set), and must not break the user's
    scripts. Revoking errs on the safe side: it runs before the save, which may still fail.
    """
    if raw or instance.pk is None:
        return
    if update_fields is not None and not WATCHED & set(update_fields):
        return  # e.g. the last_login written on every login: no query
    old = sender._base_manager.filter(pk=instance.pk).values("password", "is_active").first()
    if old is None:
        return
    rehash = (
        update_fields is not None
        and set(update_fields) == {"password"}
        and instance._password is None
        and is_password_usable(instance.password)
    )
    password_changed = old["password"] != instance.password and not rehash
    if password_changed or (old["is_active"] and not instance.is_active):
        token_revoke(user_id=instance.pk)
