"""A user's profile: their time zone (the task digest's clock), read by user_time_zone and edited
on the user's admin page."""

from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clients.tests.factories import UserFactory
from core.models import Profile, user_time_zone, validate_time_zone

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"


# --- user_time_zone ---------------------------------------------------------------------------


def test_a_user_without_a_profile_has_the_business_time_zone():
    assert user_time_zone(UserFactory()) == ZoneInfo("Europe/Berlin")


def test_an_empty_time_zone_is_the_business_one():
    user = UserFactory()
    Profile.objects.create(user=user, time_zone="")

    assert user_time_zone(user) == ZoneInfo("Europe/Berlin")


def test_the_profiles_time_zone_counts():
    user = UserFactory()
    Profile.objects.create(user=user, time_zone="America/New_York")

    assert user_time_zone(user) == ZoneInfo("America/New_York")


def test_a_name_that_is_no_time_zone_is_refused():
    with pytest.raises(ValidationError, match="is not a time zone"):
        validate_time_zone("Mars/Olympus_Mons")
    validate_time_zone("Asia/Kolkata")


# --- The admin --------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def change_data(user, *, time_zone: str, profile: Profile | None = None) -> dict:
    """What the user's admin page posts: the user unchanged, the profile inline's one form."""
    return {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": f"{user.date_joined:%Y-%m-%d}",
        "date_joined_1": f"{user.date_joined:%H:%M:%S}",
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "1" if profile else "0",
        "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1",
        "profile-0-id": profile.pk if profile else "",
        "profile-0-user": user.pk,
        "profile-0-time_zone": time_zone,
    }


def change_url(user) -> str:
    return reverse("admin:auth_user_change", args=[user.pk])


def test_the_user_admin_page_shows_the_time_zone(admin_client):
    user = UserFactory(username="anna")

    response = admin_client.get(change_url(user))

    assert response.status_code == 200
    assert 'name="profile-0-time_zone"' in response.text
    assert '<option value="America/New_York">America/New York</option>' in response.text


def test_the_admin_sets_a_users_time_zone(admin_client):
    user = UserFactory(username="anna", email="anna@mail.test")

    response = admin_client.post(change_url(user), change_data(user, time_zone="Asia/Tokyo"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert user_time_zone(user) == ZoneInfo("Asia/Tokyo")


def test_the_admin_changes_a_users_time_zone(admin_client):
    user = UserFactory(username="anna")
    profile = Profile.objects.create(user=user, time_zone="Asia/Tokyo")

    response = admin_client.post(
        change_url(user), change_data(user, time_zone="America/New_York", profile=profile)
    )

    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.time_zone == "America/New_York"


def test_the_admin_refuses_a_name_that_is_no_time_zone(admin_client):
    user = UserFactory(username="anna")

    response = admin_client.post(change_url(user), change_data(user, time_zone="Mars/Base"))

    assert response.status_code == 200
    assert "Select a valid choice." in response.text
    assert not Profile.objects.exists()


def test_an_untouched_profile_form_saves_no_profile(admin_client):
    user = UserFactory(username="anna")

    response = admin_client.post(change_url(user), change_data(user, time_zone=""))

    assert response.status_code == 302
    assert not Profile.objects.exists()


def test_the_add_user_page_still_works(admin_client):
    assert admin_client.get(reverse("admin:auth_user_add")).status_code == 200
