from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from core.models import Profile

User = get_user_model()


class ProfileInline(admin.StackedInline):
    """The user's own choices: their language and time zone (core/preferences.py)."""

    model = Profile
    fields = ["language", "time_zone"]
    can_delete = False
    max_num = 1


# django.contrib.auth's UserAdmin (registered first: it is earlier in INSTALLED_APPS), with the
# profile on the user's page.
admin.site.unregister(User)


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    inlines = [*auth_admin.UserAdmin.inlines, ProfileInline]


# The admin names the product, not the framework ("Django administration").
admin.site.site_header = admin.site.site_title = _("Mini CRM administration")
