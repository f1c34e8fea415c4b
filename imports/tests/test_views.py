"""The import pages: who may use them, the upload, the preview and its new check with other
columns, the commit (refused with invalid rows unless they are skipped), cancel, revert, the
invalid rows' CSV, the progress, and the history."""

import csv
import io

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import Client, Order
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory
from imports import services
from imports.models import Import

pytestmark = pytest.mark.django_db

CLIENT_ROWS = [
    ["Name", "E-mail", "Phone", "Notes"],
    ["Ada Lovelace", "ada@mail.test", "+49 30 1111111", "met at the fair"],
    ["Grace Hopper", "GRACE@mail.test", "", ""],
    ["No Email", "", "", ""],
    ["Placeholder", "someone@example.com", "", ""],
]
ORDER_ROWS = [
    ["Client email", "Title", "Amount", "Status"],
    ["ada@mail.test", "Annual plan", "1 234,50", "In progress"],
    ["ada@mail.test", "Support", "99", ""],
]


def csv_file(rows, name="clients.csv") -> SimpleUploadedFile:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    return SimpleUploadedFile(name, text.getvalue().encode(), content_type="text/csv")


def make_import(user, rows=CLIENT_ROWS, *, kind="clients", name="clients.csv", **kwargs) -> Import:
    """A checked import waiting for confirmation (the preview), made through the services."""
    batch = services.import_create(user=user, kind=kind, upload=csv_file(rows, name), **kwargs)
    return services.import_start_check(import_id=batch.pk)


def page(batch: Import, suffix: str = "") -> str:
    return f"/imports/{batch.pk}/{suffix}"


@pytest.fixture
def pending(member):
    """Clients: 2 valid rows (Ada, Grace), 2 invalid (no email; example.com)."""
    return make_import(member)


@pytest.fixture
def valid_only(member):
    return make_import(member, CLIENT_ROWS[:3], name="valid.csv")


@pytest.fixture
def done(valid_only):
    return services.import_start_commit(import_id=valid_only.pk)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- Who may ------------------------------------------------------------------------------
GET_PAGES = ["", "progress/", "invalid.csv", "revert/"]
POSTS = ["check/", "commit/", "cancel/", "revert/"]


@pytest.mark.parametrize("url", ["/clients/import/", "/orders/import/", "/imports/"])
def test_guest_is_redirected_to_login_from_the_pages(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize("suffix", GET_PAGES + POSTS)
def test_guest_is_redirected_to_login_from_an_import(client, pending, suffix):
    method = client.post if suffix in POSTS else client.get
    response = method(page(pending, suffix))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("persona", ["sales", "viewer", "nobody"])
@pytest.mark.parametrize("url", ["/clients/import/", "/orders/import/", "/imports/"])
def test_users_without_the_import_permission_get_the_403_page(client, request, persona, url):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(url)
    assert response.status_code == 403
    assert "403.html" in [t.name for t in response.templates]


@pytest.mark.parametrize("persona", ["sales", "viewer", "nobody"])
@pytest.mark.parametrize("suffix", GET_PAGES)
def test_users_without_the_import_permission_may_not_see_an_import(
    client, request, pending, persona, suffix
):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(page(pending, suffix)).status_code == 403


@pytest.mark.parametrize("persona", ["sales", "viewer", "nobody"])
@pytest.mark.parametrize("suffix", POSTS)
def test_users_without_the_import_permission_change_nothing(
    client, request, pending, persona, suffix
):
    client.force_login(request.getfixturevalue(persona))
    response = client.post(page(pending, suffix), {"skip_invalid": "on"})
    assert response.status_code == 403
    pending.refresh_from_db()
    assert (pending.status, pending.stage) == (Import.Status.PENDING, Import.Stage.PREVIEW)
    assert not Client.objects.exists()


def test_users_without_the_permission_may_not_upload(client, sales):
    client.force_login(sales)
    response = client.post("/clients/import/", {"file": csv_file(CLIENT_ROWS)})
    assert response.status_code == 403
    assert not Import.objects.exists()


@pytest.mark.parametrize(
    "url", ["/clients/import/", "/orders/import/", "/imports/", "{pk}", "{pk}revert/"]
)
def test_a_manager_may_open_every_page(member_client, done, url):
    response = member_client.get(url.format(pk=page(done)))
    assert response.status_code == 200


@pytest.mark.parametrize("suffix", GET_PAGES + POSTS)
def test_an_unknown_import_is_404(member_client, suffix):
    method = member_client.post if suffix in POSTS else member_client.get
    assert method(f"/imports/999999/{suffix}").status_code == 404


def test_url_names():
    assert reverse("imports:clients") == "/clients/import/"
    assert reverse("imports:orders") == "/orders/import/"
    assert reverse("imports:list") == "/imports/"
    assert reverse("imports:detail", args=[7]) == "/imports/7/"
    assert reverse("imports:invalid", args=[7]) == "/imports/7/invalid.csv"
    for name in ("check", "commit", "cancel", "revert", "progress"):
        assert reverse(f"imports:{name}", args=[7]) == f"/imports/7/{name}/"


# --- The way in: menu and buttons -----------------------------------------------------------
def test_managers_see_the_menu_link_and_the_import_buttons(member_client):
    assert 'href="/imports/"' in member_client.get("/clients/").text
    assert 'href="/clients/import/"' in member_client.get("/clients/").text
    assert 'href="/orders/import/"' in member_client.get("/orders/").text


def test_sales_see_no_menu_link_and_no_import_buttons(client, sales):
    client.force_login(sales)
    clients_page, orders_page = client.get("/clients/").text, client.get("/orders/").text
    assert 'href="/imports/"' not in clients_page
    assert 'href="/clients/import/"' not in clients_page
    assert 'href="/orders/import/"' not in orders_page


# --- Upload ---------------------------------------------------------------------------------
def test_the_upload_page_explains_the_columns_the_limits_and_the_duplicate_rule(
    member_client, settings
):
    settings.IMPORT_MAX_MB = 7
    html = member_client.get("/clients/import/").text
    assert 'accept=".csv,.xlsx' in html
    assert 'enctype="multipart/form-data"' in html
    assert "up to 7 MB" in html
    assert "e-mail address" in html  # a synonym of Email
    assert 'type="radio" name="on_duplicate" value="skip"' in html
    assert 'value="update"' in html
    assert "a blank cell changes nothing" in html


def test_the_orders_upload_page_has_no_duplicate_rule(member_client):
    html = member_client.get("/orders/import/").text
    assert 'name="on_duplicate"' not in html
    assert "import the clients first" in html


def test_uploading_clients_shows_their_preview(member_client, member):
    ClientFactory(email="grace@mail.test", name="Grace H.", phone="")
    response = member_client.post(
        "/clients/import/", {"file": csv_file(CLIENT_ROWS), "on_duplicate": "update"}
    )
    batch = Import.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/imports/{batch.pk}/"
    assert (batch.user, batch.kind, batch.file_name) == (member, "clients", "clients.csv")
    assert (batch.status, batch.stage) == (Import.Status.PENDING, Import.Stage.PREVIEW)
    assert (batch.rows, batch.created, batch.updated, batch.invalid) == (4, 1, 1, 2)
    assert not Client.objects.filter(email="ada@mail.test").exists()  # nothing saved yet

    html = member_client.get(response["Location"]).text
    assert 'id="import-counts"' in html
    assert "Ada Lovelace" in html  # the sample
    assert "Grace Hopper" in html  # an update: the file's name over the CRM's
    assert 'id="import-errors"' in html
    assert "This field is required." in html
    assert "example.com" in html
    assert f'href="/imports/{batch.pk}/invalid.csv"' in html
    assert "Notes" in html  # an ignored column
    assert 'name="skip_invalid"' in html
    assert f'action="/imports/{batch.pk}/cancel/"' in html


def test_uploading_orders_shows_their_preview(member_client):
    ClientFactory(email="ada@mail.test")
    response = member_client.post(
        "/orders/import/", {"file": csv_file(ORDER_ROWS, "orders.csv")}, follow=True
    )
    batch = Import.objects.get()
    assert batch.kind == "orders"
    assert (batch.rows, batch.created, batch.invalid) == (2, 2, 0)
    html = response.text
    assert "Annual plan" in html
    assert "1,234.50" in html
    assert "In progress" in html  # the status's label, not its code
    assert 'name="skip_invalid"' not in html  # no invalid row: no box to tick
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.csv", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n0000", "photo.csv", "This is a PNG image, not a table."),
        (b"name,email\n", "fake.xlsx", "is named .xlsx but is not an Excel workbook"),
    ],
)
def test_a_refused_file_is_a_form_error_and_saves_nothing(member_client, content, name, message):
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    response = member_client.post("/clients/import/", {"file": upload, "on_duplicate": "skip"})
    assert response.status_code == 200
    assert message in response.text
    assert response.context["form"].errors["file"]
    assert 'aria-invalid="true"' in response.text
    assert not Import.objects.exists()


def test_a_file_too_big_is_refused(member_client, settings):
    settings.IMPORT_MAX_MB = 0
    response = member_client.post(
        "/clients/import/", {"file": csv_file(CLIENT_ROWS), "on_duplicate": "skip"}
    )
    assert "the limit is 0 MB" in response.text
    assert not Import.objects.exists()


def test_no_file_is_a_form_error(member_client):
    response = member_client.post("/clients/import/", {})
    assert response.status_code == 200
    assert "Choose a .csv file or an .xlsx workbook." in response.text
    assert not Import.objects.exists()


def test_a_big_file_is_checked_in_the_background(
    member_client, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_BACKGROUND_KB = 0
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = member_client.post(
            "/clients/import/", {"file": csv_file(CLIENT_ROWS), "on_duplicate": "skip"}
        )
        batch = Import.objects.get()
        assert batch.stage == Import.Stage.CHECKING  # queued, not checked within the request
    assert len(callbacks) == 1
    assert response.status_code == 302
    batch.refresh_from_db()
    assert (batch.stage, batch.created, batch.invalid) == (Import.Stage.PREVIEW, 2, 2)


# --- Preview: the columns, checked again ----------------------------------------------------
ODD_HEADER = [["Who", "Mail", "Tel"], ["Ada", "ada@mail.test", ""], ["Bob", "bob@mail.test", ""]]


def test_a_required_column_not_found_says_so_and_offers_no_commit(member_client, member):
    batch = make_import(member, ODD_HEADER)
    html = member_client.get(page(batch)).text
    assert 'id="file-problem"' in html
    assert "No column holds Name" in html
    assert 'id="import-counts"' not in html
    assert 'id="commit-form"' not in html
    # The menus list the file's columns, by letter and header.
    assert "A · Who" in html
    assert "C · Tel" in html


def test_choosing_the_columns_checks_again_and_changes_the_counts(member_client, member):
    batch = make_import(member, ODD_HEADER)
    response = member_client.post(
        page(batch, "check/"),
        {"map-name": "0", "map-email": "1", "map-phone": "", "map-on_duplicate": "skip"},
        follow=True,
    )
    assert "The file was checked again with your choices." in messages_of(response)
    batch.refresh_from_db()
    assert batch.mapping == {"name": 0, "email": 1}
    assert (batch.rows, batch.created, batch.invalid, batch.errors) == (2, 2, 0, [])
    assert batch.ignored_columns == ["Tel"]
    assert 'id="file-problem"' not in response.text
    assert 'id="commit-form"' in response.text


def test_the_duplicate_rule_is_checked_again_too(member_client, pending):
    ClientFactory(email="ada@mail.test", name="Ada L.", phone="")
    member_client.post(
        page(pending, "check/"),
        {"map-name": "0", "map-email": "1", "map-phone": "2", "map-on_duplicate": "update"},
    )
    pending.refresh_from_db()
    assert pending.on_duplicate == "update"
    assert (pending.created, pending.updated) == (1, 1)


def test_a_column_chosen_twice_is_a_form_error_and_checks_nothing(member_client, pending):
    response = member_client.post(
        page(pending, "check/"),
        {"map-name": "1", "map-email": "1", "map-phone": "", "map-on_duplicate": "skip"},
    )
    assert response.status_code == 200
    assert "This column already fills “Name”" in response.text
    pending.refresh_from_db()
    assert pending.mapping == {"name": 0, "email": 1, "phone": 2}


def test_a_required_field_left_out_is_a_form_error(member_client, pending):
    response = member_client.post(
        page(pending, "check/"),
        {"map-name": "", "map-email": "1", "map-phone": "", "map-on_duplicate": "skip"},
    )
    assert response.status_code == 200
    assert "Choose the column that holds this field." in response.text


def test_a_column_outside_the_file_is_a_form_error(member_client, pending):
    response = member_client.post(
        page(pending, "check/"),
        {"map-name": "0", "map-email": "99", "map-on_duplicate": "skip"},
    )
    assert response.status_code == 200
    assert response.context["mapping_form"].errors["email"]


def test_a_finished_import_is_not_checked_again(member_client, done):
    response = member_client.post(
        page(done, "check/"),
        {"map-name": "0", "map-email": "1", "map-on_duplicate": "skip"},
        follow=True,
    )
    assert "This import is no longer waiting for confirmation" in messages_of(response)[0]
    done.refresh_from_db()
    assert done.status == Import.Status.DONE


# --- Commit ---------------------------------------------------------------------------------
def test_commit_is_refused_while_rows_are_invalid(member_client, pending):
    response = member_client.post(page(pending, "commit/"), follow=True)
    assert response.redirect_chain == [(page(pending) + "#import-confirm", 302)]
    [message] = messages_of(response)
    assert message.startswith("Nothing was imported: 2 of 4 rows are invalid.")
    pending.refresh_from_db()
    # The preview stays, ready for the box to be ticked.
    assert (pending.status, pending.stage) == (Import.Status.PENDING, Import.Stage.PREVIEW)
    assert not Client.objects.exists()


def test_commit_with_the_box_ticked_imports_the_valid_rows(member_client, pending):
    response = member_client.post(page(pending, "commit/"), {"skip_invalid": "on"}, follow=True)
    assert "The import is done." in messages_of(response)
    pending.refresh_from_db()
    assert pending.status == Import.Status.DONE
    assert pending.skip_invalid
    assert set(Client.objects.values_list("email", flat=True)) == {
        "ada@mail.test",
        "grace@mail.test",
    }
    html = response.text
    assert 'id="import-summary"' in html
    assert "2 clients created, 0 updated, 0 left as they were." in html
    assert "2 invalid rows were skipped." in html
    assert f'href="/imports/{pending.pk}/revert/"' in html
    assert 'href="/clients/"' in html


def test_commit_of_valid_orders(member_client, member):
    ada = ClientFactory(email="ada@mail.test")
    batch = make_import(member, ORDER_ROWS, kind="orders", name="orders.csv")
    response = member_client.post(page(batch, "commit/"), follow=True)
    assert "The import is done." in messages_of(response)
    assert ada.orders.count() == 2
    assert "2 orders created." in response.text


def test_a_big_commit_runs_in_the_background(
    member_client, valid_only, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_BACKGROUND_KB = 0
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(page(valid_only, "commit/"), follow=True)
        assert "The import runs in the background" in messages_of(response)[0]
        assert 'id="import-progress"' in response.text  # the page follows it
        assert not Client.objects.exists()
    valid_only.refresh_from_db()
    assert valid_only.status == Import.Status.DONE
    assert Client.objects.count() == 2


def test_the_commit_checks_the_file_again(member_client, valid_only):
    # One of the file's clients was added since the preview: the commit leaves it alone.
    ClientFactory(email="ada@mail.test", name="Ada from the form")
    member_client.post(page(valid_only, "commit/"))
    valid_only.refresh_from_db()
    assert valid_only.status == Import.Status.DONE
    assert (valid_only.created, valid_only.unchanged) == (1, 1)
    assert Client.objects.get(email="ada@mail.test").name == "Ada from the form"


def test_a_commit_that_fails_says_why(member_client, valid_only):
    with open(valid_only.file.path, "wb"):
        pass  # the stored upload emptied since the preview
    response = member_client.post(page(valid_only, "commit/"), follow=True)
    assert messages_of(response) == ["The file is empty."]
    valid_only.refresh_from_db()
    assert valid_only.status == Import.Status.FAILED
    assert "The file is empty." in response.text
    assert 'href="/clients/import/"' in response.text
    assert not Client.objects.exists()


def test_a_second_commit_changes_nothing(member_client, done):
    response = member_client.post(page(done, "commit/"), follow=True)
    assert "This import is no longer waiting for confirmation" in messages_of(response)[0]
    assert Client.objects.count() == 2


def test_a_commit_with_no_column_for_a_required_field_is_refused(member_client, member):
    batch = make_import(member, ODD_HEADER)
    response = member_client.post(page(batch, "commit/"), {"skip_invalid": "on"}, follow=True)
    assert "choose the file’s columns first" in messages_of(response)[0]
    batch.refresh_from_db()
    assert batch.status == Import.Status.PENDING


# --- Cancel ---------------------------------------------------------------------------------
def test_cancel_of_a_pending_import(member_client, pending):
    response = member_client.post(page(pending, "cancel/"), follow=True)
    assert "Cancelled: nothing was imported." in messages_of(response)
    pending.refresh_from_db()
    assert pending.status == Import.Status.CANCELLED
    assert 'href="/clients/import/"' in response.text  # upload again
    assert not Client.objects.exists()


def test_cancel_of_a_finished_import_changes_nothing(member_client, done):
    response = member_client.post(page(done, "cancel/"), follow=True)
    assert "This import has finished: there is nothing to cancel." in messages_of(response)
    done.refresh_from_db()
    assert done.status == Import.Status.DONE


def test_cancel_of_a_running_import_asks_it_to_stop(member_client, valid_only):
    Import.objects.filter(pk=valid_only.pk).update(
        status=Import.Status.RUNNING, stage=Import.Stage.SAVING
    )
    response = member_client.post(page(valid_only, "cancel/"), follow=True)
    assert "Cancelling: the import stops at its next batch" in messages_of(response)[0]
    valid_only.refresh_from_db()
    assert valid_only.cancel_requested


# --- Revert ---------------------------------------------------------------------------------
def test_revert_asks_first_saying_what_it_deletes(member_client, done):
    html = member_client.get(page(done, "revert/")).text
    assert 'id="revert-confirm"' in html
    assert "This deletes the <strong>2 clients</strong> it created." in html
    assert f'action="/imports/{done.pk}/revert/"' in html
    assert Client.objects.count() == 2


def test_revert_deletes_what_the_import_created_and_lists_what_it_kept(member_client, done):
    OrderFactory(client=Client.objects.get(email="ada@mail.test"))  # an order since
    response = member_client.post(page(done, "revert/"), follow=True)
    assert response.redirect_chain == [(page(done), 302)]
    done.refresh_from_db()
    assert done.status == Import.Status.REVERTED
    assert messages_of(response) == ["The import was reverted."]
    assert "Reverted: 1 client and 0 orders deleted." in response.text
    assert list(Client.objects.values_list("email", flat=True)) == ["ada@mail.test"]
    html = response.text
    assert 'id="import-kept"' in html
    assert "Client ada@mail.test was kept: it has orders added since the import." in html
    assert "Reverted by member" in html


def test_revert_of_a_pending_import_is_refused(member_client, pending):
    response = member_client.get(page(pending, "revert/"), follow=True)
    assert response.redirect_chain == [(page(pending), 302)]
    assert "Only a finished import can be reverted." in messages_of(response)
    response = member_client.post(page(pending, "revert/"), follow=True)
    assert "Only a finished import can be reverted." in messages_of(response)
    pending.refresh_from_db()
    assert pending.status == Import.Status.PENDING


def test_a_second_revert_changes_nothing(member_client, done):
    member_client.post(page(done, "revert/"))
    response = member_client.post(page(done, "revert/"), follow=True)
    assert "Only a finished import can be reverted." in messages_of(response)


# --- The invalid rows' CSV ------------------------------------------------------------------
def test_the_invalid_rows_download(member_client, pending):
    response = member_client.get(page(pending, "invalid.csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="clients-invalid-rows.csv"'
    assert response["Cache-Control"] == "private, no-store"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["Name", "E-mail", "Phone", "Notes", "error"]
    assert [row[0] for row in rows[1:]] == ["No Email", "Placeholder"]
    assert rows[1][-1] == "email: This field is required."


def test_no_invalid_rows_no_download(member_client, valid_only):
    assert member_client.get(page(valid_only, "invalid.csv")).status_code == 404
    assert "invalid.csv" not in member_client.get(page(valid_only)).text


def test_a_new_check_without_invalid_rows_does_not_serve_the_old_file(member_client, pending):
    # A check that finds no invalid row leaves the earlier check's file in place (services
    # _store): it is not this preview's.
    Import.objects.filter(pk=pending.pk).update(invalid=0)
    assert member_client.get(page(pending, "invalid.csv")).status_code == 404


# --- Progress -------------------------------------------------------------------------------
@pytest.fixture
def checking(member, pending):
    """An import whose check runs (in the worker), halfway through."""
    Import.objects.filter(pk=pending.pk).update(stage=Import.Stage.CHECKING)
    cache.set(
        f"imports:progress:{pending.pk}",
        {"stage": "checking", "done": 500, "total": 1000, "finished": False},
    )
    return pending


def test_the_page_of_a_running_import_shows_a_live_progress_bar(member_client, checking):
    html = member_client.get(page(checking)).text
    assert '<progress id="progress-bar"' in html
    assert 'value="500" max="1000"' in html
    assert 'aria-live="polite"' in html
    assert "500 of 1,000 rows" in html
    assert f'data-live-path="/ws/imports/{checking.pk}/"' in html
    assert f'data-progress-url="/imports/{checking.pk}/progress/"' in html
    assert "imports/import-progress.js" in html
    assert '<meta http-equiv="refresh" content="5">' in html  # in <noscript>
    assert f'action="/imports/{checking.pk}/cancel/"' in html
    assert 'id="commit-form"' not in html


def test_the_progress_as_json(member_client, checking):
    response = member_client.get(page(checking, "progress/"))
    assert response.json() == {
        "id": checking.pk,
        "stage": "checking",
        "done": 500,
        "total": 1000,
        "finished": False,
    }


def test_a_report_left_from_the_check_is_not_the_commits(member_client, valid_only):
    # The commit waits for the worker; the cache still holds the check's last report.
    Import.objects.filter(pk=valid_only.pk).update(stage=Import.Stage.SAVING)
    state = member_client.get(page(valid_only, "progress/")).json()
    assert state == {
        "id": valid_only.pk,
        "stage": "saving",
        "done": 0,
        "total": 0,
        "finished": False,
    }
    html = member_client.get(page(valid_only)).text
    assert '<progress id="progress-bar" aria-labelledby="progress-stage"' in html
    assert "Saving the rows" in html
    assert "Starting…" in html
    assert 'id="import-status">Saving<' in html  # not "Waiting for confirmation"


def test_the_progress_of_a_finished_import_says_finished(member_client, done):
    assert member_client.get(page(done, "progress/")).json()["finished"] is True
    assert "import-progress.js" not in member_client.get(page(done)).text


# --- Failed and cancelled -------------------------------------------------------------------
def test_a_failed_import_shows_its_message(member_client, pending):
    Import.objects.filter(pk=pending.pk).update(
        status=Import.Status.FAILED, stage=Import.Stage.FINISHED, message="It broke."
    )
    html = member_client.get(page(pending)).text
    assert "It broke." in html
    assert 'id="commit-form"' not in html


# --- History --------------------------------------------------------------------------------
def test_the_history_is_empty_at_first(member_client):
    html = member_client.get("/imports/").text
    assert "No imports yet." in html
    assert 'href="/clients/import/"' in html


def test_the_history_lists_imports_newest_first(member_client, member, pending, done):
    other = UserFactory(username="colleague")
    older = Import.objects.create(
        kind="orders", user=other, file="imports/x.csv", file_name="orders-2025.csv"
    )
    response = member_client.get("/imports/")
    assert [batch.pk for batch in response.context["imports"]] == [older.pk, done.pk, pending.pk]
    html = response.text
    assert f'href="/imports/{pending.pk}/"' in html
    assert "orders-2025.csv" in html
    assert "colleague" in html
    assert "Waiting for confirmation" in html
    assert "Done" in html


def test_the_history_has_25_a_page(member_client, member):
    Import.objects.bulk_create(
        Import(kind="clients", user=member, file="imports/x.csv", file_name=f"f{n}.csv")
        for n in range(26)
    )
    first = member_client.get("/imports/")
    assert len(first.context["imports"]) == 25
    assert 'href="?page=2"' in first.text
    assert len(member_client.get("/imports/?page=2").context["imports"]) == 1


@pytest.mark.parametrize("count", [2, 20])
def test_the_history_costs_the_same_queries_for_2_or_20_imports(
    member_client, member, count, session_queries
):
    users = [member, UserFactory(username="colleague")]
    Import.objects.bulk_create(
        Import(kind="clients", user=users[n % 2], file="imports/x.csv", file_name=f"f{n}.csv")
        for n in range(count)
    )
    member_client.get("/imports/")  # the user's permissions are cached after a first request
    with CaptureQueriesContext(connection) as queries:
        response = member_client.get("/imports/")
    assert response.status_code == 200
    # The session (on SQLite; from Redis on the real stack), the user, the COUNT of the
    # imports, and one page of imports with their users (one JOIN): none a row.
    assert len(queries) == session_queries + 3, [q["sql"] for q in queries]
