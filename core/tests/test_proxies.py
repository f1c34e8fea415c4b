"""The client's address behind our proxies (core.middleware.TrustedProxyMiddleware): what
django-axes locks out and the anonymous API throttle counts."""

from ipaddress import ip_network

import pytest
from django.test import RequestFactory

from clients.tests.factories import UserFactory
from core.middleware import TrustedProxyMiddleware, client_address
from mini_crm.env import env_proxies

NGINX = (ip_network("127.0.0.1/32"),)
PRIVATE = (ip_network("10.0.0.0/8"), ip_network("127.0.0.1/32"))
PASSWORD = "secret-pass-123"  # UserFactory's


# --- The rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("remote_addr", "forwarded_for", "trusted", "expected"),
    [
        # No trusted proxy (the default): the header is the client's word, ignored.
        ("203.0.113.7", "198.51.100.1", (), "203.0.113.7"),
        ("203.0.113.7", "198.51.100.1", 0, "203.0.113.7"),
        # CIDR mode: our nginx on loopback sends what it saw as the peer.
        ("127.0.0.1", "198.51.100.1", NGINX, "198.51.100.1"),
        # ... and a client's forged entries to the left of it change nothing.
        ("127.0.0.1", "6.6.6.6, 198.51.100.1", NGINX, "198.51.100.1"),
        # An untrusted peer with a forged header: unchanged.
        ("203.0.113.7", "127.0.0.1, 198.51.100.1", NGINX, "203.0.113.7"),
        # Two of our proxies in a row: the right-most entry that is not ours.
        ("127.0.0.1", "6.6.6.6, 198.51.100.1, 10.1.2.3", PRIVATE, "198.51.100.1"),
        # Every hop ours: a client on our own network.
        ("127.0.0.1", "10.9.9.9, 10.1.2.3", PRIVATE, "10.9.9.9"),
        # Count mode: the entry that many proxies back, whoever the peer.
        ("172.18.0.5", "6.6.6.6, 198.51.100.1", 1, "198.51.100.1"),
        ("172.18.0.5", "6.6.6.6, 198.51.100.1, 172.18.0.9", 2, "198.51.100.1"),
        # Fewer entries than proxies: it did not come through all of them.
        ("172.18.0.5", "198.51.100.1", 2, "172.18.0.5"),
        # IPv6, normalised.
        ("127.0.0.1", "2001:DB8::0001", NGINX, "2001:db8::1"),
        # Junk: unchanged, never an error.
        ("127.0.0.1", "not-an-address", NGINX, "127.0.0.1"),
        ("127.0.0.1", "198.51.100.1, <script>", NGINX, "127.0.0.1"),
        ("172.18.0.5", ",,,", 1, "172.18.0.5"),
        ("172.18.0.5", "198.51.100.1:4711", 1, "172.18.0.5"),
        ("127.0.0.1", "", NGINX, "127.0.0.1"),
        ("", "198.51.100.1", NGINX, ""),
    ],
)
def test_client_address(remote_addr, forwarded_for, trusted, expected):
    assert client_address(remote_addr, forwarded_for, trusted) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ()),
        ("0", 0),
        ("1", 1),
        ("127.0.0.1", NGINX),
        ("10.0.0.0/8, 127.0.0.1", PRIVATE),
    ],
)
def test_the_setting_is_a_count_or_networks(monkeypatch, raw, expected):
    monkeypatch.setenv("DJANGO_TRUSTED_PROXIES", raw)
    assert env_proxies("DJANGO_TRUSTED_PROXIES") == expected


def test_the_setting_refuses_junk_and_reads_its_old_name(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv("DJANGO_TRUSTED_PROXIES", "nginx")
    with pytest.raises(ImproperlyConfigured, match="DJANGO_TRUSTED_PROXIES='nginx'"):
        env_proxies("DJANGO_TRUSTED_PROXIES")
    monkeypatch.delenv("DJANGO_TRUSTED_PROXIES")
    monkeypatch.setenv("AXES_PROXY_COUNT", "1")
    assert env_proxies("DJANGO_TRUSTED_PROXIES", alias="AXES_PROXY_COUNT") == 1


def test_the_middleware_rewrites_remote_addr_for_what_follows(settings):
    settings.TRUSTED_PROXIES = NGINX
    seen = []
    middleware = TrustedProxyMiddleware(lambda request: seen.append(request.META["REMOTE_ADDR"]))
    factory = RequestFactory()
    middleware(factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1"))
    middleware(factory.get("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1"))
    assert seen == ["198.51.100.1", "203.0.113.7"]


def test_the_middleware_comes_first(settings):
    assert settings.MIDDLEWARE[0] == "core.middleware.TrustedProxyMiddleware"
    # DRF then reads REMOTE_ADDR alone (None would read the whole forgeable header).
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0


# --- What it is for: lockouts and throttle buckets per client ---------------------------------


def login(client, username, password, **headers):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, headers=headers
    )


def lock_out(client, settings, username, **headers):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, username, "wrong", **headers)


@pytest.mark.django_db
def test_a_forged_forwarded_for_does_not_escape_a_lockout(client, settings):
    settings.TRUSTED_PROXIES = ()
    UserFactory(username="ada")
    lock_out(client, settings, "ada", x_forwarded_for="198.51.100.1")
    # The same peer claiming to be someone else is still the locked-out address.
    assert login(client, "ada", PASSWORD, x_forwarded_for="198.51.100.2").status_code == 429


@pytest.mark.django_db
def test_behind_a_trusted_proxy_two_clients_have_separate_lockouts(client, settings):
    settings.TRUSTED_PROXIES = NGINX  # the test client's REMOTE_ADDR is 127.0.0.1
    UserFactory(username="ada")
    lock_out(client, settings, "ada", x_forwarded_for="198.51.100.1")
    assert login(client, "ada", PASSWORD, x_forwarded_for="198.51.100.1").status_code == 429
    # Another client of the same proxy is not locked out by the first one's failures.
    assert login(client, "ada", PASSWORD, x_forwarded_for="198.51.100.2").status_code == 302


@pytest.mark.django_db
def test_behind_a_trusted_proxy_two_clients_have_separate_throttle_buckets(client, settings):
    settings.TRUSTED_PROXIES = NGINX
    settings.API_PUBLIC_READ = True  # anonymous callers reach the throttle only where they may
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/min", "user": "100/min"},
    }
    first, second = {"x_forwarded_for": "198.51.100.1"}, {"x_forwarded_for": "198.51.100.2"}
    for _ in range(2):
        assert client.get("/api/clients/", headers=first).status_code == 200
    assert client.get("/api/clients/", headers=first).status_code == 429
    assert client.get("/api/clients/", headers=second).status_code == 200
    # Without a trusted proxy, different headers are one caller: the peer (127.0.0.1).
    settings.TRUSTED_PROXIES = ()
    statuses = [
        client.get("/api/clients/", headers={"x_forwarded_for": f"198.51.100.{n}"}).status_code
        for n in (3, 4, 5)
    ]
    assert statuses == [200, 200, 429]
