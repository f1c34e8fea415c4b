"""A user's API token: made, replaced and revoked here, by the account page and the signal that
revokes it when the user's password changes or the user is deactivated."""

from django.db import transaction
from rest_framework.authtoken.models import Token


@transaction.atomic
def token_create(*, user) -> Token:
    """A new token for `user`, replacing (and so revoking) the one they had."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def token_revoke(*, user_id: int) -> bool:
    """Delete the user's token; whether there was one."""
    deleted, _ = Token.objects.filter(user_id=user_id).delete()
    return bool(deleted)
