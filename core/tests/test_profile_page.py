import pytest

from core.models import Profile

pytestmark = pytest.mark.django_db


def test_a_user_sets_their_own_time_zone(client, viewer):
    client.force_login(viewer)
    assert client.get("/accounts/profile/").status_code == 200
    response = client.post("/accounts/profile/", {"time_zone": "America/New_York"})
    assert response.status_code == 302
    assert Profile.objects.get(user=viewer).time_zone == "America/New_York"
    assert "Your profile was saved." in client.get("/accounts/profile/").text


def test_an_unknown_time_zone_is_a_form_error(client, viewer):
    client.force_login(viewer)
    response = client.post("/accounts/profile/", {"time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert response.context["form"].errors["time_zone"]
    assert not Profile.objects.filter(time_zone="Mars/Olympus").exists()


def test_the_profile_needs_a_login(client):
    response = client.get("/accounts/profile/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
