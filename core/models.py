import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a time zone."), params={"value": value})


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


def language_choices() -> list[tuple[str, str]]:
    return [("", _("The browser's")), *settings.LANGUAGES]


class Profile(models.Model):
    """What a user chooses for themselves: their language and time zone (pages, e-mails and
    exports are in them; core/preferences.py). A user without a profile has the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="profile",
        verbose_name=_("user"),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        help_text=_("Empty: the business's time zone (TIME_ZONE)."),
        choices=time_zone_choices,
        validators=[validate_time_zone],
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        help_text=_("Empty: the browser's language, or the one chosen in the header."),
        choices=language_choices,
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return str(self.user)


def user_language(user) -> str:
    """The user's language: their profile's, else the business's (LANGUAGE_CODE). For what is
    sent to them outside a request (e-mails); a page follows their browser too."""
    try:
        name = user.profile.language
    except Profile.DoesNotExist:
        name = ""
    return name or settings.LANGUAGE_CODE


def user_time_zone(user) -> zoneinfo.ZoneInfo:
    """The user's time zone: their profile's, else TIME_ZONE."""
    try:
        name = user.profile.time_zone
    except Profile.DoesNotExist:
        name = ""
    return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
