"""Each user's language and time zone, on every page they open.

The language: the one on the user's profile; else the one the header's switcher set in a cookie
(Django's `set_language`, /i18n/setlang/); else the browser's Accept-Language (Django's
LocaleMiddleware does those two). The time zone: the profile's, else TIME_ZONE.

The profile's choices are copied into the session when the user logs in and whenever they
change them here, so a request reads them with the session it loads anyway: no query a page.
A choice made for a user in the admin reaches them at their next login.
"""

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.views import i18n

from core.models import Profile

LANGUAGE_KEY = "preferences:language"
TIME_ZONE_KEY = "preferences:time_zone"


def preferences_remember(*, session, profile: Profile | None) -> None:
    """Put the profile's language and time zone into the session (none: the defaults)."""
    session[LANGUAGE_KEY] = profile.language if profile else ""
    session[TIME_ZONE_KEY] = profile.time_zone if profile else ""


@receiver(user_logged_in, dispatch_uid="core.preferences.logged_in")
def _logged_in(*, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        profile = Profile.objects.filter(user=user).first()
        preferences_remember(session=request.session, profile=profile)


class PreferencesMiddleware:
    """After LocaleMiddleware and AuthenticationMiddleware: the session's language wins over
    the cookie's and the browser's, and its time zone is the one every date is shown in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if LANGUAGE_KEY not in session and request.user.is_authenticated:
            # A session from before these keys (or a login that bypassed the signal): read
            # the profile once, and the session keeps it from then on.
            profile = Profile.objects.filter(user=request.user).first()
            preferences_remember(session=session, profile=profile)
        language = session.get(LANGUAGE_KEY)
        if language and language in dict(settings.LANGUAGES):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        # activate, not override: a streamed response (the CSV export) renders its rows after
        # this returns, and must still see the user's zone. Every request sets it afresh.
        if zone := _zone(session.get(TIME_ZONE_KEY)):
            timezone.activate(zone)
        else:
            timezone.deactivate()
        return self.get_response(request)


def _zone(name: str | None) -> zoneinfo.ZoneInfo | None:
    # ZoneInfo keeps each zone it has loaded; a zone removed from the system since is the default.
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return None


def set_language(request: HttpRequest) -> HttpResponse:
    """/i18n/setlang/: Django's own view (the cookie, the redirect to `next`), and for a user who
    is logged in the choice goes onto their profile too, so it follows them to other browsers."""
    response = i18n.set_language(request)
    language = request.POST.get(i18n.LANGUAGE_QUERY_PARAMETER, "")
    if (
        request.method == "POST"
        and request.user.is_authenticated
        and language in dict(settings.LANGUAGES)
    ):
        profile, _ = Profile.objects.update_or_create(
            user=request.user, defaults={"language": language}
        )
        preferences_remember(session=request.session, profile=profile)
    return response
