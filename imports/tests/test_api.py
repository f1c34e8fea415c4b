"""The import API: POST /api/clients/import/ and /api/orders/import/ (dry run, commit now or in
the worker), GET /api/imports/<id>/, its revert and cancel; the one body of every answer; who
may call it."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clients.models import Client, Order
from clients.permissions import SALES, VIEWERS
from clients.tests.factories import ClientFactory, UserFactory, image_bytes
from imports import progress
from imports.models import Import
from imports.tests import files

pytestmark = pytest.mark.django_db

CONTRACT = {"id", "status", "rows", "created", "updated", "unchanged", "invalid", "errors"}
CLIENTS = [
    ["Full name", "E-mail", "Telephone"],
    ["Chloé Müller", "chloe@mail.test", "+49 30 1"],
    ["Bob Stone", "bob@mail.test", ""],
]
INVALID_ROW = ["No Email", "not-an-email", ""]


@pytest.fixture
def staff_api(staff):
    """A manager with staff status: what importing through the API takes."""
    api = APIClient()
    api.force_authenticate(staff)
    return api


@pytest.fixture
def anonymous_api(db):
    return APIClient()


def send(api, kind="clients", content=None, name="clients.csv", **params):
    body = {**params}
    if content is not None:
        body["file"] = files.upload(content, name)
    return api.post(f"/api/{kind}/import/", body, format="multipart")


def clients_csv(*rows) -> bytes:
    return files.csv_bytes([*CLIENTS, *rows])


def test_a_dry_run_counts_what_the_commit_would_do_and_saves_nothing(staff_api):
    ClientFactory(email="bob@mail.test", name="Bob Stone", phone="")
    before = Client.objects.count()

    response = send(staff_api, content=clients_csv(INVALID_ROW), dry_run="true")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] is None
    assert body["status"] == "pending"
    assert (body["rows"], body["created"], body["updated"], body["unchanged"]) == (3, 1, 0, 1)
    assert body["invalid"] == 1
    assert [(e["line"], e["field"]) for e in body["errors"]] == [(4, "email")]
    assert "Nothing was imported" in body["message"]  # what the commit would answer
    assert Client.objects.count() == before
    assert not Import.objects.exists()


def test_committing_clients_answers_201_with_the_outcome_and_where_to_find_it(staff_api, staff):
    response = send(staff_api, content=clients_csv())

    assert response.status_code == 201, response.content
    body = response.json()
    batch = Import.objects.get()
    assert body["id"] == batch.pk
    assert response["Location"] == f"/api/imports/{batch.pk}/"
    assert (body["status"], body["kind"], body["rows"], body["created"]) == (
        "done",
        "clients",
        2,
        2,
    )
    assert body["errors"] == []
    assert batch.user == staff
    chloe = Client.objects.get(email="chloe@mail.test")
    assert (chloe.name, chloe.phone) == ("Chloé Müller", "+49 30 1")


def test_committing_orders_of_known_clients_answers_201(staff_api):
    ada = ClientFactory(email="ada@mail.test")
    content = files.xlsx_bytes(
        [
            ["Client email", "Title", "Amount", "Status"],
            ["ada@mail.test", "Laptop", "1200.50", "DONE"],
            ["ADA@mail.test", "Mouse", "25", ""],
        ]
    )

    response = send(staff_api, kind="orders", content=content, name="orders.xlsx")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["status"], body["created"]) == ("orders", "done", 2)
    assert sorted(Order.objects.filter(client=ada).values_list("title", flat=True)) == [
        "Laptop",
        "Mouse",
    ]
    ada.refresh_from_db()
    assert ada.orders_count == 2  # the roll-up triggers kept the totals


def test_invalid_rows_refuse_the_whole_commit_with_400(staff_api):
    response = send(staff_api, content=clients_csv(INVALID_ROW))

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["status"] == "failed"
    assert (body["rows"], body["invalid"], body["created"]) == (3, 1, 0)
    assert body["errors"][0]["line"] == 4
    assert body["errors"][0]["field"] == "email"
    assert "Nothing was imported" in body["message"]
    assert not Client.objects.exists()
    # The refused commit stays on record, as in the pages: the same body at its address.
    assert staff_api.get(f"/api/imports/{body['id']}/").json()["status"] == "failed"


def test_skip_invalid_commits_the_valid_rows_and_reports_the_others(staff_api):
    response = send(staff_api, content=clients_csv(INVALID_ROW), skip_invalid="true")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["created"], body["invalid"]) == ("done", 2, 1)
    assert body["errors"][0]["field"] == "email"
    assert set(Client.objects.values_list("email", flat=True)) == {
        "chloe@mail.test",
        "bob@mail.test",
    }


@pytest.mark.parametrize(("on_duplicate", "updated"), [("update", 1), ("skip", 0)])
def test_on_duplicate_says_whether_existing_clients_are_updated(staff_api, on_duplicate, updated):
    chloe = ClientFactory(email="chloe@mail.test", name="Chloe", phone="+49 30 9")

    response = send(staff_api, content=clients_csv(), on_duplicate=on_duplicate)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (1, updated, 1 - updated)
    chloe.refresh_from_db()
    expected = ("Chloé Müller", "+49 30 1") if updated else ("Chloe", "+49 30 9")
    assert (chloe.name, chloe.phone) == expected


def test_a_commit_that_clashes_with_another_writer_is_a_409_and_saves_nothing(
    staff_api, monkeypatch
):
    from django.db import IntegrityError

    def clash(batch, analysis, report):
        # What the unique email constraint raises when another request added one of these
        # clients between the check and the INSERT.
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr("imports.services._write_clients", clash)

    response = send(staff_api, content=clients_csv())

    assert response.status_code == 409, response.content
    body = response.json()
    assert (body["status"], body["created"]) == ("failed", 0)
    assert "Upload the file again" in body["message"]
    assert not Client.objects.exists()


@pytest.fixture
def worker(settings):
    """Every file goes to the worker, which runs the task in-process once the request's
    transaction commits (eager, even on the real stack: imports/tests/conftest.py)."""
    settings.IMPORT_BACKGROUND_KB = 0


def test_a_big_file_is_committed_by_the_worker_202_then_get_shows_it_done(
    staff_api, worker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = send(staff_api, content=clients_csv())
        assert not Client.objects.exists()  # queued, not run, until the commit

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending"
    assert response["Location"] == f"/api/imports/{body['id']}/"
    done = staff_api.get(response["Location"])
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["created"]) == ("done", 2)
    assert Client.objects.count() == 2


def test_get_answers_the_contract_body(staff_api):
    batch = Import.objects.get(pk=send(staff_api, content=clients_csv(INVALID_ROW)).json()["id"])

    body = staff_api.get(f"/api/imports/{batch.pk}/").json()

    assert set(body) >= CONTRACT
    assert set(body["errors"][0]) == {"line", "field", "message"}
    assert body["id"] == batch.pk
    assert (body["rows"], body["invalid"]) == (3, 1)
    assert body["file_name"] == "clients.csv"


@pytest.mark.parametrize("status", Import.Status.values)
def test_get_shows_each_status(staff_api, staff, status):
    batch = Import.objects.create(kind="clients", status=status, file_name="x.csv", user=staff)

    response = staff_api.get(f"/api/imports/{batch.pk}/")

    assert response.status_code == 200
    assert response.json()["status"] == status
    assert set(Import.Status.values) == {
        "pending",
        "running",
        "done",
        "failed",
        "cancelled",
        "reverted",
    }


def test_an_unknown_import_is_a_404(staff_api):
    assert staff_api.get("/api/imports/999999/").status_code == 404
    assert staff_api.post("/api/imports/999999/revert/").status_code == 404
    assert staff_api.post("/api/imports/999999/cancel/").status_code == 404


def test_revert_deletes_what_the_import_created_and_a_second_revert_is_a_409(staff_api):
    ClientFactory(email="keep@mail.test")
    batch_id = send(staff_api, content=clients_csv()).json()["id"]

    response = staff_api.post(f"/api/imports/{batch_id}/revert/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "reverted"
    assert "2 clients" in body["message"]
    assert body["kept"] == []
    assert list(Client.objects.values_list("email", flat=True)) == ["keep@mail.test"]
    assert staff_api.get(f"/api/imports/{batch_id}/").json()["status"] == "reverted"

    again = staff_api.post(f"/api/imports/{batch_id}/revert/")

    assert again.status_code == 409
    assert again.json()["status"] == "reverted"
    assert again.json()["detail"] == "Only a finished import can be reverted."


def test_cancel_stops_a_pending_or_running_import_and_refuses_a_finished_one(staff_api, staff):
    def create(status):
        return Import.objects.create(kind="clients", status=status, file_name="x.csv", user=staff)

    pending, running, done = create("pending"), create("running"), create("done")
    progress.reporter(running.pk, stage="saving")(1, 2)  # its worker is at work

    cancelled = staff_api.post(f"/api/imports/{pending.pk}/cancel/")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    # A running one stops at its next batch, its transaction rolled back.
    stopping = staff_api.post(f"/api/imports/{running.pk}/cancel/")
    assert stopping.status_code == 202
    assert Import.objects.get(pk=running.pk).cancel_requested
    refused = staff_api.post(f"/api/imports/{done.pk}/cancel/")
    assert refused.status_code == 409
    assert refused.json()["status"] == "done"
    assert "pending or running" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"on_duplicate": "overwrite"}, "on_duplicate"),
        ({"skip_invalid": "yes"}, "skip_invalid"),
        ({"skip_invalid": "1"}, "skip_invalid"),
        ({"dry_run": "maybe"}, "dry_run"),
        ({"dry_run": ""}, "dry_run"),
        ({"on_duplicate": ""}, "on_duplicate"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it_and_nothing_is_saved(staff_api, params, field):
    response = send(staff_api, content=clients_csv(), **params)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["id"] is None
    assert set(body) >= CONTRACT
    assert [(e["line"], e["field"]) for e in body["errors"]] == [(1, field)]
    assert body["errors"][0]["message"]
    assert not Client.objects.exists()
    assert not Import.objects.exists()


def test_flags_are_read_in_any_case(staff_api):
    response = send(staff_api, content=clients_csv(), dry_run="TRUE", skip_invalid="False")

    assert response.status_code == 200, response.content
    assert not Import.objects.exists()


@pytest.mark.parametrize("dry_run", ["true", "false"])
def test_no_file_is_a_400_on_the_file(staff_api, dry_run):
    response = send(staff_api, dry_run=dry_run)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"line": 1, "field": "file", "message": "No file was submitted."}
    ]
    assert not Import.objects.exists()


def test_a_json_body_is_a_415(staff_api):
    response = staff_api.post("/api/clients/import/", {"file": "a,b"}, format="json")

    assert response.status_code == 415


@pytest.mark.parametrize("dry_run", ["true", "false"])
@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (image_bytes(), "clients.csv", "This is a PNG image, not a table."),
        (b"", "clients.csv", "The file is empty."),
        (files.plain_zip(), "clients.xlsx", "This is a zip archive, not an Excel workbook."),
        (b"not a workbook", "clients.xlsx", "This file is named .xlsx but is not an Excel"),
    ],
)
def test_a_file_that_is_not_a_table_is_a_400_that_says_why(
    staff_api, dry_run, content, name, message
):
    response = send(staff_api, content=content, name=name, dry_run=dry_run)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["id"] is None
    assert body["status"] == "failed"
    assert body["file_name"] == name
    [error] = body["errors"]
    assert (error["line"], error["field"]) == (1, "file")
    assert error["message"].startswith(message)
    assert not Import.objects.exists()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([["Full name", "Telephone"], ["Ada", "+49 1"]], "No column holds Email"),
        ([CLIENTS[0]], "The file has its column names but no rows under them."),
    ],
)
def test_a_table_without_a_column_or_rows_is_refused_at_upload(staff_api, rows, message):
    # Found from the header and the first row, before anything is kept: the API has no page
    # to choose a column on (import_create(require_columns=True)).
    response = send(staff_api, content=files.csv_bytes(rows))

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["status"] == "failed"
    [error] = body["errors"]
    assert (error["line"], error["field"]) == (1, "file")
    assert error["message"].startswith(message)
    assert body["id"] is None
    assert not Import.objects.exists()
    assert not Client.objects.exists()


def test_a_dry_run_of_a_table_without_a_required_column_is_a_400(staff_api):
    content = files.csv_bytes([["Full name", "Telephone"], ["Ada", "+49 1"]])

    response = send(staff_api, content=content, dry_run="true")

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith("No column holds Email")


# --- Who may ---------------------------------------------------------------------------------


def calls(api, batch: Import) -> dict:
    return {
        "import clients": lambda: send(api, content=clients_csv()),
        "import orders": lambda: send(api, kind="orders", content=clients_csv()),
        "dry run": lambda: send(api, content=clients_csv(), dry_run="true"),
        "get": lambda: api.get(f"/api/imports/{batch.pk}/"),
        "revert": lambda: api.post(f"/api/imports/{batch.pk}/revert/"),
        "cancel": lambda: api.post(f"/api/imports/{batch.pk}/cancel/"),
    }


CALLS = ["import clients", "import orders", "dry run", "get", "revert", "cancel"]


@pytest.fixture
def done_import(staff):
    return Import.objects.create(kind="clients", status="done", file_name="x.csv", user=staff)


def persona_api(request, persona: str) -> APIClient:
    users = {
        "member": lambda: request.getfixturevalue("member"),  # a manager, not staff
        "staff without the permission": lambda: UserFactory(username="admin", is_staff=True),
        "sales": lambda: request.getfixturevalue("sales"),
        "staff sales": lambda: UserFactory(username="ss", is_staff=True, roles=[SALES]),
        "viewer": lambda: request.getfixturevalue("viewer"),
        "staff viewer": lambda: UserFactory(username="sv", is_staff=True, roles=[VIEWERS]),
        "nobody": lambda: request.getfixturevalue("nobody"),
    }
    api = APIClient()
    api.force_authenticate(users[persona]())
    return api


@pytest.mark.parametrize("call", CALLS)
def test_anonymous_callers_are_asked_to_authenticate(anonymous_api, done_import, call):
    response = calls(anonymous_api, done_import)[call]()

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert not Client.objects.exists()
    assert Import.objects.get().status == "done"


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize(
    "persona",
    [
        "member",
        "staff without the permission",
        "sales",
        "staff sales",
        "viewer",
        "staff viewer",
        "nobody",
    ],
)
def test_without_staff_status_and_the_import_permission_it_is_a_403(
    request, done_import, persona, call
):
    response = calls(persona_api(request, persona), done_import)[call]()

    assert response.status_code == 403, response.content
    assert "detail" in response.json()
    assert not Client.objects.exists()
    assert Import.objects.get().status == "done"


def test_staff_with_only_the_import_permission_may_import(anonymous_api):
    user = UserFactory(username="importer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="import_client"))
    anonymous_api.force_authenticate(user)

    assert send(anonymous_api, content=clients_csv()).status_code == 201


def test_an_inactive_staff_user_may_not(anonymous_api, staff):
    staff.is_active = False
    staff.save()
    anonymous_api.force_authenticate(staff)

    assert send(anonymous_api, content=clients_csv()).status_code == 403


# --- Cost ------------------------------------------------------------------------------------


def test_get_costs_two_queries_once_the_permissions_are_cached(
    staff, done_import, django_assert_num_queries, permission_queries
):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}")
    url = f"/api/imports/{done_import.pk}/"
    # The first request also reads the user's and the groups' permissions (then cached).
    with django_assert_num_queries(2 + permission_queries):
        assert api.get(url).status_code == 200
    # 1. the token, joined with its user; 2. the import. No query per error or kept line.
    with django_assert_num_queries(2):
        assert api.get(url).status_code == 200
