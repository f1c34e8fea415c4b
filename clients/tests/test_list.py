import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def names(response):
    return [c.name for c in response.context["clients"]]


def test_search_matches_name_or_email_case_insensitively(member_client):
    ClientFactory(name="Ada Lovelace", email="ada@mail.test")
    ClientFactory(name="Grace Hopper", email="grace@navy.test")
    ClientFactory(name="Alan Turing", email="alan@NAVY.test")
    assert sorted(names(member_client.get("/clients/?q=LOVE"))) == ["Ada Lovelace"]
    assert sorted(names(member_client.get("/clients/?q=navy"))) == ["Alan Turing", "Grace Hopper"]
    assert len(names(member_client.get("/clients/?q="))) == 3


def test_ten_per_page_and_links_keep_the_query(member_client):
    for i in range(25):
        ClientFactory(name=f"Acme {i:02}")
    ClientFactory(name="Other")
    page1 = member_client.get("/clients/?q=acme")
    assert len(names(page1)) == 10
    assert 'href="?q=acme&amp;page=2" rel="next"' in page1.text
    page3 = member_client.get("/clients/?q=acme&page=3")
    assert len(names(page3)) == 5
    assert 'href="?q=acme&amp;page=2" rel="prev"' in page3.text


@pytest.mark.parametrize(("page", "expected"), [("junk", 1), ("0", 2), ("999", 2), ("-1", 2)])
def test_junk_or_out_of_range_page_shows_a_real_page(member_client, page, expected):
    for _ in range(15):
        ClientFactory()
    response = member_client.get(f"/clients/?page={page}")
    assert response.status_code == 200
    assert response.context["page_obj"].number == expected


def test_empty_state_says_so(member_client):
    assert "No clients yet." in member_client.get("/clients/").text
    ClientFactory(name="Ada")
    assert "No clients match “zzz”." in member_client.get("/clients/?q=zzz").text


def test_avatar_fallback_shows_initials(member_client):
    ClientFactory(name="Ada Lovelace")
    assert ">AL</span>" in member_client.get("/clients/").text


@pytest.mark.parametrize("rows", [2, 10])
def test_list_page_runs_a_constant_number_of_queries(
    member_client, rows, session_queries, permission_queries
):
    for _ in range(rows):
        ClientFactory()
    with CaptureQueriesContext(connection) as ctx:
        assert member_client.get("/clients/").status_code == 200
    # The session (unless cached), 1. the user, its permissions (2), 2. COUNT(*) for the paginator,
    # 3. the page's clients with their order totals (one GROUP BY over that page).
    assert len(ctx.captured_queries) == session_queries + permission_queries + 3, [
        q["sql"] for q in ctx.captured_queries
    ]


def test_a_search_with_a_nul_character_matches_nobody_instead_of_failing(member_client):
    # PostgreSQL refuses NUL in a query parameter; no stored name or email can contain one.
    ClientFactory(name="Ada")
    response = member_client.get("/clients/?q=a%00")
    assert response.status_code == 200
    assert "No clients match" in response.text


def test_the_result_line_groups_thousands_in_page_numbers(member_client, monkeypatch):
    from clients.models import Client
    from clients.views import ClientListView

    monkeypatch.setattr(ClientListView, "paginate_by", 1)
    Client.objects.bulk_create(
        Client(name=f"Client {i}", email=f"c{i}@mail.test") for i in range(1001)
    )
    line = member_client.get("/clients/?page=1000").text
    assert "1,001 clients" in line
    assert "page 1,000 of 1,001" in line
