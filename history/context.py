"""Who is writing, and through what: the source every history entry records.

A ContextVar holds it for the current request or job. The middleware (history/middleware.py)
sets it for every request (the page, the admin or the API, by path); an import's job, a command
and a beat task set theirs with `recorded_as`. Nothing set means a command or a beat task run by
nobody in particular: "system".
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Via(models.TextChoices):
    PAGE = "page", _("page")
    ADMIN = "admin", _("admin")
    API = "api", _("API")
    IMPORT = "import", _("import")
    COMMAND = "command", _("command")


SYSTEM = "system"


@dataclass(frozen=True)
class Source:
    via: str = Via.COMMAND
    user: object = None
    # A request's user is read when the entry is written, not when the request starts: the API
    # authenticates a token inside the view (DRF then sets the request's `user` and `auth`).
    request: object = None

    def actor(self):
        user = getattr(self.request, "user", None) if self.request is not None else self.user
        return user if getattr(user, "is_authenticated", False) else None

    def actor_label(self) -> str:
        actor = self.actor()
        if actor is None:
            return SYSTEM
        if getattr(self.request, "auth", None) is not None:
            return f"API token of {actor.get_username()}"
        return actor.get_username()


# A frozen dataclass: the shared default cannot be changed in place.
_source: ContextVar[Source] = ContextVar("history_source", default=Source())  # noqa: B039


def current() -> Source:
    return _source.get()


@contextmanager
def recorded_as(via: str, *, user=None, request=None) -> Iterator[None]:
    """Record the writes made inside as `via`, by `user` (or the request's user)."""
    token = _source.set(Source(via=via, user=user, request=request))
    try:
        yield
    finally:
        _source.reset(token)
