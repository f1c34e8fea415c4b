"""GET /clients/export.csv: the client list as a streamed CSV download."""

import csv
import io
import os
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import connection, connections
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients import selectors, views
from clients.models import Client
from clients.permissions import MANAGERS
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory
from core.testing import REQUIRE_SERVICES

pytestmark = pytest.mark.django_db

URL = "/clients/export.csv"
BOM = "\ufeff".encode()
XLSX_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
HEADER = ["id", "name", "email", "phone", "vip", "created_at", "orders_count", "orders_total"]


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def by_name(data: bytes) -> dict[str, dict[str, str]]:
    header, *rows = parse(data)
    return {row[1]: dict(zip(header, row, strict=True)) for row in rows}


def test_guest_is_redirected_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={URL}"


def test_headers_name_a_dated_utf8_csv_attachment(member_client):
    response = member_client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate()  # the project's time zone, not UTC
    assert response["Content-Disposition"] == f'attachment; filename="clients-{today:%Y-%m-%d}.csv"'
    assert "no-store" in response["Cache-Control"]


def test_filename_date_is_in_the_projects_time_zone(member_client, settings, monkeypatch):
    settings.TIME_ZONE = "Europe/Berlin"
    # 23:30 UTC on Dec 31 is already Jan 1 in Berlin.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2025, 12, 31, 23, 30, tzinfo=UTC))
    response = member_client.get(URL)
    assert 'filename="clients-2026-01-01.csv"' in response["Content-Disposition"]


def test_response_is_streamed(member_client):
    response = member_client.get(URL)
    assert isinstance(response, StreamingHttpResponse)
    assert response.streaming
    assert not response.is_async  # the test client speaks WSGI: a sync generator


def test_bom_once_at_the_start_then_the_header(member_client):
    ClientFactory.create_batch(3)
    data = body(member_client.get(URL))
    header = b"id,name,email,phone,vip,created_at,orders_count,orders_total\r\n"
    assert data.startswith(BOM + header)
    assert data.count(BOM) == 1


def test_columns_and_values(member_client, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    ada = ClientFactory(name="Ada", email="ada@mail.test", phone="030 1234", vip=True)
    Client.objects.filter(pk=ada.pk).update(created_at=datetime(2026, 7, 1, 10, 0, tzinfo=UTC))
    OrderFactory(client=ada, amount=Decimal("1000.50"))
    OrderFactory(client=ada, amount=Decimal("0.25"), status="DONE")
    ClientFactory(name="Bob", phone="", vip=False)
    data = body(member_client.get(URL))
    assert parse(data)[0] == HEADER
    rows = by_name(data)
    assert rows["Ada"] == {
        "id": str(ada.pk),
        "name": "Ada",
        "email": "ada@mail.test",
        "phone": "030 1234",
        "vip": "yes",
        "created_at": "2026-07-01 12:00:00+02:00",
        "orders_count": "2",
        "orders_total": "1000.75",
    }
    assert rows["Bob"]["vip"] == "no"
    assert rows["Bob"]["phone"] == ""
    assert (rows["Bob"]["orders_count"], rows["Bob"]["orders_total"]) == ("0", "0.00")


def test_totals_are_not_double_counted(member_client):
    c = ClientFactory(name="Acme", email="buyer@acme.test")
    OrderFactory.create_batch(3, client=c, amount=Decimal("2.00"))
    row = by_name(body(member_client.get(f"{URL}?q=acme")))["Acme"]
    assert (row["orders_count"], row["orders_total"]) == ("3", "6.00")


def test_search_query_is_honoured(member_client):
    ClientFactory(name="Ada Lovelace", email="ada@mail.test")
    ClientFactory(name="Grace Hopper", email="grace@navy.test")
    ClientFactory(name="Alan Turing", email="alan@NAVY.test")
    assert sorted(by_name(body(member_client.get(f"{URL}?q=NAVY")))) == [
        "Alan Turing",
        "Grace Hopper",
    ]
    assert len(by_name(body(member_client.get(f"{URL}?q=+")))) == 3


def test_no_match_still_gives_the_header(member_client):
    ClientFactory(name="Ada")
    assert parse(body(member_client.get(f"{URL}?q=zzz"))) == [HEADER]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ('=HYPERLINK("http://evil.test","x")', '\'=HYPERLINK("http://evil.test","x")'),
        ("+1+1", "'+1+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Plain = fine", "Plain = fine"),
    ],
)
def test_formula_injection_in_user_text_is_neutralised(member_client, name, expected):
    ClientFactory(name=name)
    _header, row = parse(body(member_client.get(URL)))
    assert row[1] == expected


def test_phone_and_email_are_user_text_too_but_computed_numbers_are_not(member_client):
    c = ClientFactory(name="Ada", email="=cmd@mail.test", phone="+49 30 1")
    OrderFactory(client=c, amount=Decimal("5.00"))
    row = by_name(body(member_client.get(URL)))["Ada"]
    assert row["email"] == "'=cmd@mail.test"
    assert row["phone"] == "'+49 30 1"
    assert row["id"] == str(c.pk)
    assert (row["orders_count"], row["orders_total"]) == ("1", "5.00")


def test_every_client_once_across_chunks_in_the_lists_order(member_client, monkeypatch):
    monkeypatch.setattr(views.ClientExportView, "chunk_size", 3)
    made = {c.pk for c in ClientFactory.create_batch(10)}
    rows = parse(body(member_client.get(URL)))[1:]
    assert len(rows) == 10
    assert {int(r[0]) for r in rows} == made
    # Without ?sort= the list's default: newest first, the id breaking ties.
    newest_first = Client.objects.order_by("-created_at", "-id").values_list("pk", flat=True)
    assert [int(r[0]) for r in rows] == list(newest_first)


@pytest.mark.parametrize("clients", [5, 50])
def test_query_count_is_constant_for_one_chunk(
    member_client, monkeypatch, clients, session_queries, permission_queries
):
    monkeypatch.setattr(views.ClientExportView, "chunk_size", 100)
    for _ in range(clients):
        OrderFactory.create_batch(2, client=ClientFactory())
    with CaptureQueriesContext(connection) as ctx:
        data = body(member_client.get(URL))
    assert len(parse(data)) == clients + 1
    # The session (unless cached), 1. the user, its permissions (2), 2. the one chunk of clients
    # with their totals.
    assert len(ctx.captured_queries) == session_queries + permission_queries + 2, [
        q["sql"] for q in ctx.captured_queries
    ]


def test_queries_stay_constant_however_many_chunks(
    member_client, monkeypatch, session_queries, permission_queries
):
    monkeypatch.setattr(views.ClientExportView, "chunk_size", 10)
    for _ in range(50):
        OrderFactory.create_batch(2, client=ClientFactory())
    with CaptureQueriesContext(connection) as ctx:
        data = body(member_client.get(URL))
    assert len(parse(data)) == 51
    # The session (unless cached), 1. the user, its permissions (2), 2. the clients with their
    # totals, streamed in 5 chunks.
    assert len(ctx.captured_queries) == session_queries + permission_queries + 2, [
        q["sql"] for q in ctx.captured_queries
    ]


def _collect_async(q: str, chunk_size: int) -> str:
    async def collect() -> str:
        return "".join([part async for part in selectors.aiter_export(q=q, chunk_size=chunk_size)])

    return async_to_sync(collect)()


def test_async_generator_yields_the_same_text_as_the_sync_one():
    ClientFactory(name="Zoë Ærøskøbing", email="zoe@mail.test", vip=True)
    for _ in range(6):
        OrderFactory.create_batch(2, client=ClientFactory(name="=evil()"))
    ClientFactory(name="Other", email="other@else.test")
    for q in ("", "mail.test"):
        sync_text = "".join(selectors.iter_export(q=q, chunk_size=4))
        assert _collect_async(q, chunk_size=4) == sync_text
        assert sync_text.count("\ufeff") == 1


@pytest.mark.django_db(transaction=True)
async def test_asgi_request_is_served_by_an_async_generator(async_client):
    user = await sync_to_async(UserFactory)(username="asgi-member", roles=[MANAGERS])
    await sync_to_async(ClientFactory)(name="Jürgen Müller", email="jm@mail.test")
    await async_client.aforce_login(user)

    try:
        response = await async_client.get(URL)
        assert response.status_code == 200
        assert isinstance(response, StreamingHttpResponse)
        # Under ASGI Django buffers a sync iterator in memory; an async one streams.
        assert response.is_async
        data = b"".join([part async for part in response.streaming_content])
        expected = await sync_to_async(lambda: "".join(selectors.iter_export(q="")).encode())()
    finally:
        # The queries ran in asgiref's sync thread, whose connection the test runner does not
        # know about: close it, or PostgreSQL refuses to drop the test database.
        await sync_to_async(connections.close_all)()
    assert data == expected
    assert "Jürgen Müller" in data.decode("utf-8")


@pytest.mark.services
@pytest.mark.skipif(
    not shutil.which("soffice") and not REQUIRE_SERVICES,
    reason="LibreOffice (soffice) is not installed: bin/install-system-deps",
)
def test_libreoffice_opens_the_export_with_non_ascii_names_intact(member_client, tmp_path):
    names = ["Zoë Ærøskøbing", "Jürgen Müller", "Łukasz Żółć", "=1+1"]
    for name in names:
        ClientFactory(name=name)
    source = tmp_path / "clients.csv"
    source.write_bytes(body(member_client.get(URL)))
    profile = tmp_path / "lo-profile"  # a private profile: parallel runs don't collide
    subprocess.run(
        [
            shutil.which("soffice") or "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            # Headless LibreOffice 7.4 imports CSV as Windows-1252 unless told, BOM or not (a
            # person gets the import dialog); 44,34,76,1 = comma, double quote, UTF-8, line 1.
            "--infilter=CSV:44,34,76,1",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    with zipfile.ZipFile(tmp_path / "clients.xlsx") as xlsx:
        strings = ElementTree.fromstring(xlsx.read("xl/sharedStrings.xml"))
        sheet = xlsx.read("xl/worksheets/sheet1.xml").decode("utf-8")
    texts = {t.text for t in strings.iter(f"{{{XLSX_NS}}}t")}
    assert set(names[:3]) <= texts, texts
    # The BOM was read as the encoding mark, not glued to the first header cell.
    assert {"id", "name", "orders_total"} <= texts
    # No cell became a formula: the injected one stayed text.
    assert "'=1+1" in texts
    assert "<f>" not in sheet


def test_a_nul_character_in_the_search_exports_just_the_header(member_client):
    ClientFactory(name="Ada")
    rows = parse(body(member_client.get(f"{URL}?q=a%00")))
    assert rows == [selectors.EXPORT_HEADER]


def test_the_export_follows_the_lists_sort_and_filters(member_client):
    big = ClientFactory(name="Big", vip=True)
    OrderFactory(client=big, amount=Decimal("900.00"))
    small = ClientFactory(name="Small", vip=True)
    OrderFactory(client=small, amount=Decimal("5.00"))
    done = ClientFactory(name="Done VIP", vip=True)
    OrderFactory(client=done, amount=Decimal("50.00"), status="DONE")
    ClientFactory(name="Plain")

    def names(query: str) -> list[str]:
        return [row[1] for row in parse(body(member_client.get(f"{URL}?{query}")))[1:]]

    assert names("sort=-orders_total&vip=1") == ["Big", "Done VIP", "Small"]
    assert names("sort=orders_total&vip=1&active=1") == ["Small", "Big"]
    assert names("sort=-name&q=p") == ["Plain", "Done VIP"]
    # An unknown sort is the list's default, newest first, as on the page.
    assert names("sort=password") == ["Plain", "Done VIP", "Small", "Big"]


def test_the_lists_export_link_downloads_what_the_list_shows(member_client):
    ClientFactory(name="Ada", vip=True)
    html = member_client.get("/clients/?q=ad&sort=name&vip=1").text
    assert f'href="{URL}?q=ad&amp;sort=name&amp;vip=1"' in html
