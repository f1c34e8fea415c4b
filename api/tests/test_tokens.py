"""The account page where a user makes, sees and revokes their own API token; and the token's
end when the password changes or the user is deactivated."""

import pytest
from django.contrib.auth.hashers import make_password
from django.test import override_settings
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clients.permissions import VIEWERS
from clients.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("account-token")
REVOKE = reverse("account-token-revoke")


@pytest.fixture
def ada(db):
    return UserFactory(username="ada", roles=[VIEWERS])


@pytest.fixture
def ada_client(client, ada):
    client.force_login(ada)
    return client


def reads(key: str) -> int:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api.get("/api/clients/").status_code


def test_anonymous_is_sent_to_the_login(client):
    for response in (client.get(URL), client.post(URL), client.post(REVOKE)):
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    assert not Token.objects.exists()


def test_without_a_token_the_page_offers_one(ada_client):
    response = ada_client.get(URL)
    assert response.status_code == 200
    html = response.text
    assert "You have no token." in html
    assert f'action="{URL}"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "no-store" in response.headers["Cache-Control"]


def test_create_shows_the_key_once_and_it_works(ada_client, ada):
    response = ada_client.post(URL, follow=True)
    assert response.redirect_chain == [(URL, 302)]  # a reload does not make another
    assert response.status_code == 200
    key = Token.objects.get(user=ada).key
    assert key in response.text
    assert 'id="token-key"' in response.text
    assert '<label for="token-key">' in response.text
    assert reads(key) == 200
    # Afterwards only its first characters, never the key.
    again = ada_client.get(URL).text
    assert key not in again
    assert f"<code>{key[:4]}…</code>" in again


def test_reloading_the_page_that_shows_the_key_keeps_the_token(ada_client, ada):
    ada_client.post(URL, follow=True)
    key = Token.objects.get(user=ada).key
    ada_client.get(URL)
    assert Token.objects.get(user=ada).key == key
    assert reads(key) == 200


def test_a_new_token_replaces_the_old(ada_client, ada):
    ada_client.post(URL)
    old = Token.objects.get(user=ada).key
    ada_client.post(URL)
    new = Token.objects.get(user=ada).key
    assert new != old
    assert reads(old) == 401
    assert reads(new) == 200


def test_revoke(ada_client, ada):
    ada_client.post(URL)
    key = Token.objects.get(user=ada).key
    response = ada_client.post(REVOKE, follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert "Your API token was revoked" in response.text
    assert "You have no token." in response.text
    assert not Token.objects.filter(user=ada).exists()
    assert reads(key) == 401


def test_revoke_only_by_post(ada_client, ada):
    Token.objects.create(user=ada)
    assert ada_client.get(REVOKE).status_code == 405
    assert Token.objects.filter(user=ada).exists()


def test_another_users_token_is_never_shown_nor_touched(ada_client, viewer):
    theirs = Token.objects.create(user=viewer).key
    html = ada_client.get(URL).text
    assert theirs not in html
    assert theirs[:4] + "…" not in html
    ada_client.post(URL)
    assert theirs not in ada_client.get(URL).text
    ada_client.post(REVOKE)
    assert Token.objects.filter(key=theirs, user=viewer).exists()


def test_the_forms_need_the_csrf_token(ada):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(ada)
    assert browser.post(URL).status_code == 403
    Token.objects.create(user=ada)
    assert browser.post(REVOKE).status_code == 403
    assert Token.objects.filter(user=ada).exists()


def test_the_header_links_the_page(ada_client):
    assert f'href="{URL}"' in ada_client.get(reverse("clients:list")).text


# --- Revocation ---------------------------------------------------------------------------------
def test_a_password_change_revokes_the_token(ada):
    key = Token.objects.create(user=ada).key
    ada.set_password("another-pass-456")
    ada.save()
    assert not Token.objects.filter(user=ada).exists()
    assert reads(key) == 401


def test_a_password_change_through_the_password_form_revokes_it(ada_client, ada):
    Token.objects.create(user=ada)
    ada.set_password("another-pass-456")
    ada.save(update_fields=["password"])
    assert not Token.objects.filter(user=ada).exists()


def test_an_unusable_or_assigned_password_revokes_it(ada):
    Token.objects.create(user=ada)
    ada.set_unusable_password()
    ada.save(update_fields=["password"])
    assert not Token.objects.filter(user=ada).exists()
    Token.objects.create(user=ada)
    ada.password = make_password("assigned-pass-789")
    ada.save()
    assert not Token.objects.filter(user=ada).exists()


def test_deactivation_revokes_the_token(ada):
    key = Token.objects.create(user=ada).key
    ada.is_active = False
    ada.save()
    assert not Token.objects.filter(user=ada).exists()
    assert reads(key) == 401


def test_other_saves_keep_the_token(ada, django_assert_num_queries):
    token = Token.objects.create(user=ada)
    ada.first_name = "Ada"
    ada.save()
    ada.is_active = True
    ada.save()
    with django_assert_num_queries(1):  # the UPDATE: last_login touches no watched field
        ada.save(update_fields=["last_login"])
    assert Token.objects.filter(pk=token.pk).exists()


def test_a_rehash_at_login_keeps_the_token(ada):
    # Logging in after the hasher changed stores the same password under the new hasher.
    md5 = "django.contrib.auth.hashers.MD5PasswordHasher"
    with override_settings(PASSWORD_HASHERS=[md5]):
        ada.set_password("same-pass-123")
        ada.save()
    token = Token.objects.create(user=ada)
    old_hash = ada.password
    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher", md5]
    ):
        assert ada.check_password("same-pass-123")
    ada.refresh_from_db()
    assert ada.password != old_hash  # rehashed
    assert Token.objects.filter(pk=token.pk).exists()
