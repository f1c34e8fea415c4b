import pytest

from clients.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"  # UserFactory's


def login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_login_page_renders_our_template(client):
    response = client.get("/accounts/login/?next=/clients/")
    assert response.status_code == 200
    assert 'name="username"' in response.text
    assert 'value="/clients/"' in response.text


def test_login_redirects_to_next(client):
    UserFactory(username="ada")
    response = client.post(
        "/accounts/login/", {"username": "ada", "password": PASSWORD, "next": "/clients/add/"}
    )
    assert response["Location"] == "/clients/add/"


def test_wrong_password_shows_an_error(client):
    UserFactory(username="ada")
    response = login(client, "ada", "wrong")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text


def test_logout_is_post_only_and_ends_the_session(member_client):
    assert member_client.get("/accounts/logout/").status_code == 405
    response = member_client.post("/accounts/logout/")
    assert response["Location"] == "/accounts/login/"
    assert member_client.get("/clients/").status_code == 302


def test_repeated_failed_logins_lock_the_account_out(client, settings):
    UserFactory(username="ada")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "ada", "wrong").status_code == 200
    locked = login(client, "ada", "wrong")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.text
    # Even the right password is refused while locked out.
    assert login(client, "ada", PASSWORD).status_code == 429


def test_lockout_is_per_username_so_others_can_still_log_in(client, settings):
    UserFactory(username="ada")
    UserFactory(username="grace")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "ada", "wrong")
    assert login(client, "grace", PASSWORD).status_code == 302


def test_createsuperuser_noinput_reads_the_environment(monkeypatch):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "boss")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "boss@mail.test")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-pass-phrase-123")
    call_command("createsuperuser", interactive=False, verbosity=0)
    boss = get_user_model().objects.get(username="boss")
    assert boss.is_superuser
    assert boss.check_password("a-long-pass-phrase-123")
