import os
import subprocess
import sys

import pytest

from clients.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

TOKEN = "bench-test-token"


@pytest.fixture
def bench_views(settings):
    """The URLs and the token as `make bench` serves them (bench.settings)."""
    settings.ROOT_URLCONF = "bench.urls"
    settings.BENCH_TOKEN = TOKEN


def test_bench_urls_are_not_mounted_by_default(client, settings):
    settings.BENCH_TOKEN = TOKEN  # even with a token, production's URLs have no bench route
    assert client.get("/bench/bare/", headers={"X-Bench-Token": TOKEN}).status_code == 404
    from mini_crm import settings as production

    assert [name for name in dir(production) if name.startswith("BENCH")] == []


def test_the_bench_serves_the_app_beside_its_views(client, bench_views):
    assert client.get("/health/").status_code == 200
    assert client.get("/clients/").status_code == 302  # to the login, as in production


def test_bare_view_renders_the_ten_newest_clients_in_one_query(
    client, bench_views, django_assert_num_queries
):
    ClientFactory.create_batch(12)
    newest = list(ClientFactory._meta.model.objects.order_by("-created_at", "-id")[:10])
    # One query: the ten newest clients; no session, no user (the view needs no login).
    with django_assert_num_queries(1):
        response = client.get("/bench/bare/", headers={"X-Bench-Token": TOKEN})
    assert response.status_code == 200
    assert response.text.count("<tr>") == 10
    positions = [response.text.index(c.email) for c in newest]
    assert positions == sorted(positions)


@pytest.mark.parametrize("headers", [{}, {"X-Bench-Token": "wrong"}])
def test_bench_views_answer_404_without_the_token(client, bench_views, headers):
    assert client.get("/bench/bare/", headers=headers).status_code == 404
    assert client.get("/bench/bare-login/", headers=headers).status_code == 404


def test_logged_in_bare_view_redirects_guests_and_serves_members(client, bench_views, member):
    headers = {"X-Bench-Token": TOKEN}
    response = client.get("/bench/bare-login/", headers=headers)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    client.force_login(member)
    assert client.get("/bench/bare-login/", headers=headers).status_code == 200


def test_bench_views_without_a_token_refuse_to_start():
    env = {**os.environ, "DJANGO_DEBUG": "1", "BENCH_TOKEN": ""}
    result = subprocess.run(
        [sys.executable, "-c", "import bench.settings"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "BENCH_TOKEN must be set for the bench views" in result.stderr
