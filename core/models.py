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


class Profile(models.Model):
    """What a user chooses for themselves: their time zone (the task digest goes out in it).
    A user without a profile has the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        help_text=_("Empty: the business's time zone (TIME_ZONE)."),
        choices=time_zone_choices,
        validators=[validate_time_zone],
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return str(self.user)


def user_time_zone(user) -> zoneinfo.ZoneInfo:
    """The user's time zone: their profile's, else TIME_ZONE."""
    try:
        name = user.profile.time_zone
    except Profile.DoesNotExist:
        name = ""
    return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
