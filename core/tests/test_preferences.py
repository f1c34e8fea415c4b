"""Each user's language and time zone (core/preferences.py): the browser's language, the header's
switcher at /i18n/setlang/, the profile's choice winning after login, and the user's time zone."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.tests.factories import ClientFactory
from core.models import Profile

pytestmark = pytest.mark.django_db

RUSSIAN = {"HTTP_ACCEPT_LANGUAGE": "ru-RU,ru;q=0.9,en;q=0.5"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def test_the_browser_language_is_the_default(client):
    page = client.get("/accounts/login/", **RUSSIAN)
    assert '<html lang="ru">' in page.text
    assert "Войти" in page.text
    assert page["Content-Language"] == "ru"
    assert "Accept-Language" in page["Vary"]

    assert '<html lang="en">' in client.get("/accounts/login/", **ENGLISH).text


def test_an_unknown_browser_language_falls_back_to_english(client):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="de-DE,de")
    assert '<html lang="en">' in page.text


def test_the_switcher_offers_the_other_language_in_its_own_name(client):
    english = client.get("/accounts/login/", **ENGLISH).text
    assert 'action="/i18n/setlang/"' in english
    assert 'value="ru" lang="ru"' in english
    assert "Русский" in english

    russian = client.get("/accounts/login/", **RUSSIAN).text
    assert 'value="en" lang="en"' in russian
    assert "English" in russian


def test_a_guest_switches_language_for_this_browser(client):
    response = client.post(
        "/i18n/setlang/", {"language": "ru", "next": "/accounts/login/"}, **ENGLISH
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert response.cookies["django_language"].value == "ru"
    # The cookie wins over the browser's Accept-Language.
    assert '<html lang="ru">' in client.get("/accounts/login/", **ENGLISH).text


def test_a_user_who_switches_keeps_the_choice_on_their_profile(client, viewer):
    client.force_login(viewer)
    client.post("/i18n/setlang/", {"language": "ru", "next": "/accounts/profile/"})
    assert Profile.objects.get(user=viewer).language == "ru"

    # Another browser, with no cookie and an English Accept-Language: Russian after login.
    other = type(client)()
    other.force_login(viewer)
    assert '<html lang="ru">' in other.get("/accounts/profile/", **ENGLISH).text


def test_the_profile_language_wins_after_login(client, viewer):
    Profile.objects.create(user=viewer, language="ru")
    viewer.set_password("s3cret-pass-word")
    viewer.save()
    client.cookies["django_language"] = "en"
    response = client.post(
        "/accounts/login/", {"username": "viewer", "password": "s3cret-pass-word"}, **ENGLISH
    )
    assert response.status_code == 302
    assert '<html lang="ru">' in client.get("/accounts/profile/", **ENGLISH).text


def test_a_profile_without_a_language_follows_the_browser(client, viewer):
    Profile.objects.create(user=viewer, time_zone="Asia/Tokyo")
    client.force_login(viewer)
    assert '<html lang="ru">' in client.get("/accounts/profile/", **RUSSIAN).text
    assert '<html lang="en">' in client.get("/accounts/profile/", **ENGLISH).text


def test_the_profile_page_sets_the_language_and_says_so_in_it(client, viewer):
    client.force_login(viewer)
    response = client.post(
        "/accounts/profile/", {"language": "ru", "time_zone": ""}, follow=True, **ENGLISH
    )
    assert Profile.objects.get(user=viewer).language == "ru"
    assert '<html lang="ru">' in response.text
    assert "Профиль сохранён." in response.text

    client.post("/accounts/profile/", {"language": "", "time_zone": ""}, **ENGLISH)
    assert '<html lang="en">' in client.get("/accounts/profile/", **ENGLISH).text


@pytest.mark.parametrize("language", ["de", "", "ru' OR 1=1", "x" * 500])
def test_an_unknown_language_changes_nothing(client, viewer, language):
    client.force_login(viewer)
    response = client.post("/i18n/setlang/", {"language": language, "next": "/clients/"})
    assert response.status_code == 302
    # Django may still set the cookie for a language it has a catalogue of ("de"): one not in
    # LANGUAGES is ignored when read.
    assert '<html lang="en">' in client.get("/accounts/profile/", **ENGLISH).text
    assert not Profile.objects.filter(user=viewer).exclude(language="").exists()


def test_an_unknown_profile_language_is_a_form_error(client, viewer):
    client.force_login(viewer)
    response = client.post("/accounts/profile/", {"language": "de", "time_zone": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["language"]
    assert Profile.objects.get(user=viewer).language == ""


def test_the_switcher_never_sends_a_user_off_the_site(client):
    response = client.post("/i18n/setlang/", {"language": "ru", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_get_changes_nothing(client, viewer):
    client.force_login(viewer)
    client.get("/i18n/setlang/", {"language": "ru", "next": "/clients/"})
    assert not Profile.objects.filter(user=viewer).exists()


def test_dates_are_shown_in_the_user_time_zone(client, viewer):
    # 23:30 UTC on Dec 1 is Dec 1 in Berlin (TIME_ZONE) and already Dec 2 in Tokyo.
    shopper = ClientFactory()
    type(shopper).objects.filter(pk=shopper.pk).update(
        created_at=dt.datetime(2026, 12, 1, 22, 30, tzinfo=dt.UTC)
    )
    client.force_login(viewer)
    assert "Dec 1, 2026" in client.get(f"/clients/{shopper.pk}/").text

    client.post("/accounts/profile/", {"language": "", "time_zone": "Asia/Tokyo"})
    assert "Dec 2, 2026" in client.get(f"/clients/{shopper.pk}/").text


def test_the_time_zone_of_one_user_does_not_reach_the_next_request(client, viewer):
    Profile.objects.create(user=viewer, time_zone="Asia/Tokyo")
    client.force_login(viewer)
    client.get("/accounts/profile/")
    assert timezone.get_current_timezone_name() == "Asia/Tokyo"

    type(client)().get("/accounts/login/")
    assert timezone.get_current_timezone_name() == "Europe/Berlin"


def profile_reads(client, url: str) -> tuple[list[str], str]:
    """The queries of a GET that read the profile table (the session, the user and the page's
    own are no concern here: the session's vary by backend), and the page."""
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url, **ENGLISH)
    return [q["sql"] for q in queries if "core_profile" in q["sql"]], page.text


def test_reading_the_choices_costs_no_query(client, viewer):
    Profile.objects.create(user=viewer, language="ru", time_zone="Asia/Tokyo")
    client.force_login(viewer)  # the profile is read once, here, into the session
    reads, page = profile_reads(client, "/accounts/token/")
    assert reads == []
    assert '<html lang="ru">' in page


def test_a_session_from_before_the_preferences_reads_the_profile_once(client, viewer):
    Profile.objects.create(user=viewer, language="ru", time_zone="Asia/Tokyo")
    client.force_login(viewer)
    session = client.session
    for key in ("preferences:language", "preferences:time_zone"):
        del session[key]
    session.save()

    reads, page = profile_reads(client, "/accounts/token/")
    assert len(reads) == 1
    assert '<html lang="ru">' in page
    assert timezone.get_current_timezone_name() == "Asia/Tokyo"
    assert profile_reads(client, "/accounts/token/")[0] == []  # the session has them now
