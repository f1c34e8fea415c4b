"""Checking and committing an import: counts, duplicates, all or nothing, the totals, the events,
cancel and revert, through the services the pages, the API and the task call."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients import events
from clients.models import Client, Order
from clients.selectors import iter_export
from clients.services import client_merge
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory
from imports import services
from imports.models import Import, ImportRecord
from imports.readers import FileRefused
from imports.tests.files import CLIENT_HEADER, csv_bytes, upload, xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def importer(db):
    return UserFactory(username="importer", roles=["Managers"])


@pytest.fixture
def heard():
    """The clients_changed events sent, as a list of their `orders_only`."""
    sent = []

    def on_changed(sender, orders_only=False, **kwargs):
        sent.append(orders_only)

    events.clients_changed.connect(on_changed)
    yield sent
    events.clients_changed.disconnect(on_changed)


def start(user, rows, *, kind="clients", name="clients.csv", content=None, **options) -> Import:
    content = content if content is not None else csv_bytes(rows)
    batch = services.import_create(user=user, kind=kind, upload=upload(content, name), **options)
    return services.import_check(import_id=batch.pk)


def commit(batch: Import, **options) -> Import:
    if options:
        Import.objects.filter(pk=batch.pk).update(**options)
    return services.import_commit(import_id=batch.pk)


def clients_file(*rows):
    return [CLIENT_HEADER, *rows]


# --- The check ------------------------------------------------------------------------------


def test_the_check_counts_and_saves_nothing(importer):
    ClientFactory(email="known@mail.test", name="Known", phone="")
    batch = start(
        importer,
        clients_file(
            ["Ann", "ann@mail.test", "+49 30 1"],
            ["Known again", "KNOWN@mail.test", "+49 30 2"],
            ["", "noname@mail.test", ""],
        ),
    )

    assert batch.stage == Import.Stage.PREVIEW
    assert batch.status == Import.Status.PENDING
    assert (batch.rows, batch.created, batch.updated, batch.unchanged, batch.invalid) == (
        3,
        1,
        0,
        1,
        1,
    )
    assert batch.errors == [{"line": 4, "field": "name", "message": "This field is required."}]
    assert batch.sample[0] == {
        "line": 2,
        "action": "create",
        "name": "Ann",
        "email": "ann@mail.test",
        "phone": "+49 30 1",
    }
    assert batch.mapping == {"name": 0, "email": 1, "phone": 2}
    assert Client.objects.count() == 1


def test_duplicates_in_the_file_keep_the_first_and_list_the_others(importer):
    batch = start(
        importer,
        clients_file(
            ["Ann", "ann@mail.test", ""],
            ["Ann B", "ANN@mail.test ", ""],
            ["Bob", "b@mail.test", ""],
        ),
    )

    assert (batch.created, batch.invalid) == (2, 1)
    assert batch.errors == [
        {
            "line": 3,
            "field": "email",
            "message": "The same email as line 2, which is imported instead.",
        }
    ]


def test_the_invalid_rows_csv_holds_each_row_as_it_was_with_its_error(importer):
    batch = start(
        importer,
        clients_file(["Ann", "ann@example.com", "call me"], ["Bob", "bob@mail.test", ""]),
    )

    with batch.invalid_file.open("rb") as file:
        rows = list(csv.reader(io.StringIO(file.read().decode("utf-8-sig"))))
    assert rows[0] == [*CLIENT_HEADER, "error"]
    assert rows[1][:3] == ["Ann", "ann@example.com", "call me"]
    assert "email: Addresses at example.com" in rows[1][3]
    assert "phone: Enter a phone number" in rows[1][3]
    assert len(rows) == 2


def test_errors_are_kept_up_to_the_limit_and_counted_past_it(importer, settings):
    settings.IMPORT_MAX_ERRORS = 3
    batch = start(importer, clients_file(*[["", f"n{i}@mail.test", ""] for i in range(5)]))

    assert batch.invalid == 5
    assert len(batch.errors) == 3


def test_a_missing_email_column_is_said_and_a_mapping_fixes_it(importer):
    batch = start(importer, [["Full name", "Contact"], ["Ann", "ann@mail.test"]])

    assert batch.errors == [
        {
            "line": 1,
            "field": "file",
            "message": "No column holds Email: name the column as the field (or a usual "
            "synonym), or choose it among the file's columns on the import's page.",
        }
    ]
    assert batch.rows == 0

    batch = services.import_check(import_id=batch.pk, mapping={"name": "0", "email": "1"})

    assert (batch.errors, batch.created) == ([], 1)


def test_a_header_without_rows_is_refused_at_upload(importer):
    with pytest.raises(FileRefused, match="no rows"):
        start(importer, [CLIENT_HEADER, [], ["", "", ""]])

    assert not Import.objects.exists()


def test_the_api_refuses_a_missing_column_at_upload(importer):
    with pytest.raises(FileRefused, match="No column holds Email"):
        services.import_create(
            user=importer,
            kind="clients",
            upload=upload(csv_bytes([["name"], ["Ann"]])),
            require_columns=True,
        )


def test_a_long_file_name_is_kept_for_display_and_stored_under_a_short_one(importer):
    name = "Клиенты " * 40 + ".csv"  # 320 characters, 600 bytes: too long for a file system
    batch = services.import_create(
        user=importer,
        kind="clients",
        upload=upload(csv_bytes(clients_file(["A", "a@mail.test", ""])), name),
    )

    batch = services.import_check(import_id=batch.pk)

    assert batch.file_name.startswith("Клиенты Клиенты")
    assert len(batch.file.name) < 60
    assert batch.created == 1


def test_a_file_that_is_not_a_table_is_refused_before_anything_is_kept(importer):
    with pytest.raises(FileRefused):
        services.import_create(
            user=importer, kind="clients", upload=upload(b"\x89PNG\r\n\x1a\n....", "x.csv")
        )

    assert not Import.objects.exists()


def test_the_check_costs_the_same_queries_for_2_rows_as_for_50(importer):
    def check_queries(count: int) -> int:
        rows = clients_file(*[[f"N{i}", f"n{count}-{i}@mail.test", ""] for i in range(count)])
        batch = services.import_create(
            user=importer, kind="clients", upload=upload(csv_bytes(rows))
        )
        with CaptureQueriesContext(connection) as queries:
            services.import_check(import_id=batch.pk)
        return len(queries)

    # The import read, its stage saved; a batch: is it still pending (a Cancel stops the
    # check), one lookup of its emails; the result saved if still pending, the import read.
    assert check_queries(2) == check_queries(50) == 6


# --- The commit -----------------------------------------------------------------------------


def test_commit_creates_the_clients_with_the_vip_rule(importer, settings):
    settings.VIP_EMAIL_DOMAINS = ["company.com"]
    batch = start(
        importer,
        clients_file(["Ann", "Ann@Company.com", "+49 30 1"], ["Bob", "bob@mail.test", ""]),
    )

    batch = commit(batch)

    assert batch.status == Import.Status.DONE
    assert (batch.created, batch.updated, batch.unchanged, batch.invalid) == (2, 0, 0, 0)
    ann = Client.objects.get(email="ann@company.com")
    assert (ann.name, ann.phone, ann.vip) == ("Ann", "+49 30 1", True)
    assert not Client.objects.get(email="bob@mail.test").vip


def test_the_rest_of_the_app_hears_of_an_import_once(
    importer, heard, django_capture_on_commit_callbacks
):
    batch = start(importer, clients_file(*[[f"N{i}", f"n{i}@mail.test", ""] for i in range(30)]))

    with django_capture_on_commit_callbacks(execute=True):
        commit(batch)

    assert heard == [False]


def test_invalid_rows_refuse_the_whole_commit(importer):
    batch = start(importer, clients_file(["Ann", "ann@mail.test", ""], ["", "x@mail.test", ""]))

    batch = commit(batch)

    assert batch.status == Import.Status.FAILED
    assert "1 of 2 rows are invalid" in batch.message
    assert not Client.objects.exists()
    assert not ImportRecord.objects.exists()


def test_skip_invalid_imports_the_valid_rows(importer):
    batch = start(importer, clients_file(["Ann", "ann@mail.test", ""], ["", "x@mail.test", ""]))

    batch = commit(batch, skip_invalid=True)

    assert batch.status == Import.Status.DONE
    assert list(Client.objects.values_list("email", flat=True)) == ["ann@mail.test"]
    assert batch.invalid == 1


def test_skip_leaves_existing_clients_as_they_are(importer):
    ClientFactory(email="ann@mail.test", name="Ann Old", phone="+1 1")
    batch = start(importer, clients_file(["Ann New", "ann@mail.test", "+2 2"]))

    batch = commit(batch)

    assert (batch.created, batch.updated, batch.unchanged) == (0, 0, 1)
    assert Client.objects.get().name == "Ann Old"


def test_update_fills_and_overwrites_name_and_phone_but_never_clears(importer):
    ClientFactory(email="ann@mail.test", name="Ann Old", phone="+1 1")
    ClientFactory(email="bob@mail.test", name="Bob", phone="")
    ClientFactory(email="cy@mail.test", name="Cy", phone="+3 3")
    batch = start(
        importer,
        clients_file(
            ["Ann New", "ann@mail.test", ""],  # a blank phone leaves it
            ["Bob", "bob@mail.test", "+2 2"],  # fills the phone
            ["Cy", "cy@mail.test", "+3 3"],  # the same: unchanged
        ),
        on_duplicate="update",
    )

    assert (batch.created, batch.updated, batch.unchanged) == (0, 2, 1)
    batch = commit(batch)

    people = {c.email: (c.name, c.phone) for c in Client.objects.all()}
    assert people == {
        "ann@mail.test": ("Ann New", "+1 1"),
        "bob@mail.test": ("Bob", "+2 2"),
        "cy@mail.test": ("Cy", "+3 3"),
    }


def test_the_commit_checks_again_what_changed_since_the_preview(importer):
    batch = start(importer, clients_file(["Ann", "ann@mail.test", ""]))
    ClientFactory(email="ann@mail.test")  # added by someone after the preview

    batch = commit(batch)

    assert (batch.status, batch.created, batch.unchanged) == (Import.Status.DONE, 0, 1)
    assert Client.objects.count() == 1


def test_a_clash_with_another_writer_fails_the_import_and_saves_nothing(importer, monkeypatch):
    batch = start(importer, clients_file(["Ann", "ann@mail.test", ""], ["Bob", "b@mail.test", ""]))
    real = services._ClientCheck.batch

    def racing(self, rows, mapping):
        yield from real(self, rows, mapping)
        ClientFactory(email="b@mail.test")  # committed between the check and the INSERT

    monkeypatch.setattr(services._ClientCheck, "batch", racing)

    batch = commit(batch)

    assert batch.status == Import.Status.FAILED
    assert "someone added or changed one of these clients" in batch.message
    assert list(Client.objects.values_list("email", flat=True)) == ["b@mail.test"]


def test_a_cancel_during_the_commit_rolls_everything_back(importer, monkeypatch):
    monkeypatch.setattr(services, "BATCH", 2)
    batch = start(importer, clients_file(*[[f"N{i}", f"n{i}@mail.test", ""] for i in range(6)]))
    real = Client.objects.bulk_create
    calls = []

    def bulk_create_then_cancel(objs, *args, **kwargs):
        made = real(objs, *args, **kwargs)
        calls.append(len(made))
        services.import_cancel(import_id=batch.pk)  # pressed while the first batch was written
        return made

    monkeypatch.setattr(Client.objects, "bulk_create", bulk_create_then_cancel)

    batch = commit(batch)

    assert calls == [2]
    assert batch.status == Import.Status.CANCELLED
    assert not Client.objects.exists()


def test_a_pending_import_cancels_at_once_and_then_commits_nothing(importer):
    batch = start(importer, clients_file(["Ann", "ann@mail.test", ""]))

    services.import_cancel(import_id=batch.pk)
    batch = commit(batch)

    assert batch.status == Import.Status.CANCELLED
    assert not Client.objects.exists()


def test_a_cancel_during_the_check_stays_cancelled(importer, monkeypatch):
    monkeypatch.setattr(services, "BATCH", 2)
    batch = services.import_create(
        user=importer,
        kind="clients",
        upload=upload(
            csv_bytes(clients_file(*[[f"N{i}", f"n{i}@mail.test", ""] for i in range(6)]))
        ),
    )
    real = services._ClientCheck.batch

    def cancelled_meanwhile(self, rows, mapping):
        services.import_cancel(import_id=batch.pk)
        yield from real(self, rows, mapping)

    monkeypatch.setattr(services._ClientCheck, "batch", cancelled_meanwhile)

    batch = services.import_check(import_id=batch.pk)

    assert batch.status == Import.Status.CANCELLED
    assert commit(batch).status == Import.Status.CANCELLED
    assert not Client.objects.exists()


def test_a_commit_waits_for_a_check_under_way(importer):
    batch = start(importer, clients_file(["Ann", "ann@mail.test", ""]))
    Import.objects.filter(pk=batch.pk).update(stage=Import.Stage.CHECKING)  # a re-check runs

    assert services.import_start_commit(import_id=batch.pk).status == Import.Status.PENDING
    assert services.import_commit(import_id=batch.pk).status == Import.Status.PENDING
    assert not Client.objects.exists()


def test_a_check_finishing_after_a_commit_leaves_the_commit_alone(importer, monkeypatch):
    batch = start(importer, clients_file(["Ann", "ann@mail.test", ""]))
    real = services._ClientCheck.batch

    def committed_meanwhile(self, rows, mapping):
        yield from real(self, rows, mapping)
        Import.objects.filter(pk=batch.pk).update(status=Import.Status.DONE)  # another tab

    monkeypatch.setattr(services._ClientCheck, "batch", committed_meanwhile)

    assert services.import_check(import_id=batch.pk).status == Import.Status.DONE


def test_a_commit_declared_dead_by_a_cancel_writes_nothing(importer, monkeypatch):
    batch = start(importer, clients_file(["Ann", "ann@mail.test", ""]))
    real = services._write_clients

    def declared_dead(batch, analysis, report):
        real(batch, analysis, report)
        services.import_cancel(import_id=batch.pk)  # no report reached the cache: "stalled"

    monkeypatch.setattr(services, "_write_clients", declared_dead)
    monkeypatch.setattr(services.progress, "stalled", lambda import_id: True)

    batch = commit(batch)

    assert batch.status == Import.Status.CANCELLED
    assert not Client.objects.exists()


def test_the_invalid_rows_csv_escapes_formulas(importer):
    batch = start(importer, clients_file(['=HYPERLINK("http://evil")', "bad@example.com", ""]))

    with batch.invalid_file.open("rb") as file:
        rows = list(csv.reader(io.StringIO(file.read().decode("utf-8-sig"))))
    assert rows[1][0] == '\'=HYPERLINK("http://evil")'


def test_a_workbook_whose_cells_add_up_to_too_much_text_is_refused(importer, monkeypatch):
    # One long shared string in every row makes a small workbook a huge copy: capped at
    # ROWS_COPY_MAX_FACTOR times IMPORT_MAX_MB (here 0: any copy is too much).
    monkeypatch.setattr(services, "ROWS_COPY_MAX_FACTOR", 0)
    rows = [CLIENT_HEADER, ["Ann", "ann@mail.test", ""]]

    batch = start(importer, None, name="clients.xlsx", content=xlsx_bytes(rows))

    assert "add up to more than 0 MB of text" in batch.file_problem
    assert not batch.rows_file


def test_a_workbook_whose_rows_copy_is_over_the_size_limit_commits(importer, settings):
    rows = [CLIENT_HEADER] + [[f"N{i}", f"n{i}@mail.test", "+49 30 1"] for i in range(3_000)]
    batch = start(importer, None, name="clients.xlsx", content=xlsx_bytes(rows))
    settings.IMPORT_MAX_MB = 0  # the copy is larger than "the limit" now

    batch = commit(batch)

    assert (batch.status, batch.created) == (Import.Status.DONE, 3_000)


def test_cancelling_an_import_whose_worker_died_ends_it(importer, settings):
    running = Import.objects.create(kind="clients", status="running", file_name="x.csv")
    working = Import.objects.create(kind="clients", status="running", file_name="y.csv")
    services.progress.reporter(working.pk, stage="saving")(1, 2)

    assert services.import_cancel(import_id=running.pk).status == Import.Status.CANCELLED
    assert services.import_cancel(import_id=working.pk).status == Import.Status.RUNNING


def test_a_commit_runs_once(importer):
    batch = start(importer, clients_file(["Ann", "ann@mail.test", ""]))
    commit(batch)

    again = commit(batch)

    assert again.status == Import.Status.DONE
    assert Client.objects.count() == 1


def test_a_big_file_runs_in_the_worker_and_reports_progress(
    importer, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.IMPORT_BACKGROUND_KB = 0
    reports = []
    monkeypatch.setattr(services.progress.Reporter, "_send", lambda self, s: reports.append(s))
    batch = services.import_create(
        user=importer,
        kind="clients",
        upload=upload(csv_bytes(clients_file(["Ann", "ann@mail.test", ""]))),
    )

    with django_capture_on_commit_callbacks(execute=True) as queued:
        services.import_start_check(import_id=batch.pk)
    assert len(queued) == 1  # the check went to the (eager) worker after commit
    assert Import.objects.get(pk=batch.pk).stage == Import.Stage.PREVIEW

    with django_capture_on_commit_callbacks(execute=True) as queued:
        batch = services.import_start_commit(import_id=batch.pk, skip_invalid=False)
    # Queued (the answer is still pending), then run by the eager worker after commit.
    assert batch.status == Import.Status.PENDING
    assert "_queue" in queued[0].__qualname__
    assert Import.objects.get(pk=batch.pk).status == Import.Status.DONE
    assert {"stage": "saving", "done": 1, "total": 1, "finished": False} in reports
    assert reports[-1]["finished"]


# --- Orders ---------------------------------------------------------------------------------
ORDER_HEADER = ["Client email", "Title", "Amount", "Status", "Created at"]


def test_orders_are_imported_onto_their_clients_with_their_dates_and_totals(importer, heard):
    ann = ClientFactory(email="ann@mail.test")
    OrderFactory(client=ann, amount=Decimal("10.00"))
    rows = [
        ORDER_HEADER,
        ["ANN@mail.test", "Desk", "1 234,50", "Done", "30.11.2025"],
        ["ann@mail.test", "Chair", "1,000.25", "in progress", ""],
        ["nobody@mail.test", "Lamp", "5", "NEW", ""],
    ]
    batch = start(importer, rows, kind="orders", name="orders.csv")

    assert (batch.rows, batch.created, batch.invalid) == (3, 2, 1)
    assert batch.errors == [
        {
            "line": 4,
            "field": "client_email",
            "message": "No client has this email: import the clients first.",
        }
    ]
    batch = commit(batch, skip_invalid=True)

    assert batch.status == Import.Status.DONE
    ann.refresh_from_db()
    assert (ann.orders_count, ann.orders_total, ann.open_orders_count) == (
        3,
        Decimal("2244.75"),
        2,
    )
    desk = Order.objects.get(title="Desk")
    created = timezone.localtime(desk.created_at)  # the business's time zone
    assert (desk.status, created.date().isoformat(), created.hour) == ("DONE", "2025-11-30", 0)


def test_orders_from_an_xlsx(importer):
    ClientFactory(email="ann@mail.test")
    content = xlsx_bytes([ORDER_HEADER, ["ann@mail.test", "Desk", 19.99, "NEW", None]])

    batch = commit(start(importer, None, kind="orders", name="orders.xlsx", content=content))

    assert batch.status == Import.Status.DONE
    assert Order.objects.get().amount == Decimal("19.99")


def test_a_workbook_is_read_once_then_its_rows_copy_is_committed(importer, monkeypatch):
    content = xlsx_bytes(
        [CLIENT_HEADER, ["Ann", "ann@mail.test", None], [None, None, None], ["", "x@mail.test", ""]]
    )
    batch = start(importer, None, name="clients.xlsx", content=content)
    assert batch.rows_file
    opened = []
    real_table, real_copy = services.open_table, services.open_rows_copy
    monkeypatch.setattr(
        services,
        "open_table",
        lambda file, name: opened.append(name) or real_table(file, name=name),
    )
    monkeypatch.setattr(
        services, "open_rows_copy", lambda file: opened.append("rows copy") or real_copy(file)
    )

    batch = commit(batch, skip_invalid=True)

    assert opened == ["rows copy"]
    assert batch.status == Import.Status.DONE
    # The blank row is kept in the copy: the error's line is the workbook's.
    assert batch.errors == [{"line": 4, "field": "name", "message": "This field is required."}]
    assert list(Client.objects.values_list("email", flat=True)) == ["ann@mail.test"]


# --- The round trip -------------------------------------------------------------------------


def test_the_client_export_imports_back_unchanged(importer):
    ClientFactory(name="Chloé Müller", email="chloe@mail.test", phone="+49 30 1234")
    ClientFactory(name='=HYPERLINK("http://x")', email="formula@mail.test", phone="")
    ClientFactory(name="Łukasz, Jr.", email="lukasz@mail.test", phone="-1 (555) 0")
    OrderFactory(client=Client.objects.get(email="chloe@mail.test"))
    exported = "".join(iter_export(q="")).encode("utf-8")

    batch = start(importer, None, content=exported, name="clients.csv", on_duplicate="update")

    assert (batch.rows, batch.created, batch.updated, batch.unchanged, batch.invalid) == (
        3,
        0,
        0,
        3,
        0,
    )
    assert batch.ignored_columns == ["id", "vip", "created_at", "orders_count", "orders_total"]


def test_formulas_are_kept_as_text(importer):
    batch = commit(start(importer, clients_file(['=HYPERLINK("http://evil")', "f@mail.test", ""])))

    assert batch.status == Import.Status.DONE
    assert Client.objects.get().name == '=HYPERLINK("http://evil")'
    assert "'=HYPERLINK" in "".join(iter_export(q=""))  # and the export neutralises it


# --- Revert ---------------------------------------------------------------------------------


def test_revert_deletes_what_was_created_and_restores_what_was_updated(importer, heard):
    ClientFactory(email="old@mail.test", name="Old", phone="")
    batch = start(
        importer,
        clients_file(["New", "new@mail.test", ""], ["Old renamed", "old@mail.test", "+1 1"]),
        on_duplicate="update",
    )
    batch = commit(batch)

    batch = services.import_revert(import_id=batch.pk, user=importer)

    assert batch.status == Import.Status.REVERTED
    assert batch.kept == []
    assert list(Client.objects.values_list("email", "name", "phone")) == [
        ("old@mail.test", "Old", "")
    ]
    assert batch.reverted_by == importer


def test_revert_keeps_what_someone_changed_since_and_says_so(importer):
    ClientFactory(email="old@mail.test", name="Old", phone="")
    batch = commit(
        start(
            importer,
            clients_file(["New", "new@mail.test", ""], ["Old renamed", "old@mail.test", "+1 1"]),
            on_duplicate="update",
        )
    )
    old = Client.objects.get(email="old@mail.test")
    old.phone = "+9 9"  # edited after the import
    old.save()
    new = Client.objects.get(email="new@mail.test")
    OrderFactory(client=new)  # an order added to an imported client

    batch = services.import_revert(import_id=batch.pk, user=importer)

    old.refresh_from_db()
    assert (old.name, old.phone) == ("Old", "+9 9")
    assert Client.objects.filter(email="new@mail.test").exists()
    assert batch.kept == [
        "Client new@mail.test was kept: it has orders added since the import.",
        "Client old@mail.test: phone was changed since, so it was kept.",
    ]


def test_revert_keeps_a_created_client_given_an_avatar_since(importer):
    batch = commit(start(importer, clients_file(["A", "a@mail.test", ""])))
    Client.objects.filter(email="a@mail.test").update(avatar="avatars/a.png")

    batch = services.import_revert(import_id=batch.pk, user=importer)

    assert batch.kept == ["Client a@mail.test was kept: it has an avatar added since the import."]
    assert Client.objects.filter(email="a@mail.test").exists()


def test_revert_of_an_orders_import_deletes_its_orders_and_restores_the_totals(importer):
    ann = ClientFactory(email="ann@mail.test")
    OrderFactory(client=ann, amount=Decimal("10.00"))
    batch = commit(
        start(importer, [ORDER_HEADER, ["ann@mail.test", "Desk", "5", "", ""]], kind="orders")
    )

    services.import_revert(import_id=batch.pk, user=importer)

    ann.refresh_from_db()
    assert (ann.orders_count, ann.orders_total) == (1, Decimal("10.00"))


def test_revert_survives_a_client_merged_away_since(importer):
    batch = commit(
        start(importer, clients_file(["A", "a@mail.test", ""], ["B", "b@mail.test", ""]))
    )
    a, b = Client.objects.get(email="a@mail.test"), Client.objects.get(email="b@mail.test")
    OrderFactory(client=a)
    client_merge(source_id=a.pk, target_id=b.pk)

    batch = services.import_revert(import_id=batch.pk, user=importer)

    assert batch.status == Import.Status.REVERTED
    assert list(Client.objects.values_list("email", flat=True)) == ["b@mail.test"]


def test_revert_keeps_a_created_client_that_an_older_one_was_merged_into(importer):
    older = ClientFactory(email="older@mail.test", phone="+49 30 9")  # no orders
    batch = commit(start(importer, clients_file(["New", "new@mail.test", ""])))
    new = Client.objects.get(email="new@mail.test")
    client_merge(source_id=older.pk, target_id=new.pk)  # fills the new one's phone

    batch = services.import_revert(import_id=batch.pk, user=importer)

    assert batch.kept == ["Client new@mail.test was kept: it was edited since the import."]
    assert Client.objects.get(email="new@mail.test").phone == "+49 30 9"


def test_only_a_done_import_can_be_reverted_once(importer):
    batch = start(importer, clients_file(["A", "a@mail.test", ""]))
    with pytest.raises(services.RevertError):
        services.import_revert(import_id=batch.pk, user=importer)

    commit(batch)
    services.import_revert(import_id=batch.pk, user=importer)

    with pytest.raises(services.RevertError):
        services.import_revert(import_id=batch.pk, user=importer)
