"""The trash (issue 17): a deleted client leaves every list and total with its orders, notes
and tasks, and comes back with them, under the same ids, until the purge."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from clients.models import Client, Order, TrashedClient
from clients.services import (
    TrashError,
    _dependents,
    client_restore,
    client_trash,
    totals_drift,
    trash_purge,
)
from clients.tasks import purge_trash
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory, image_bytes, upload
from dashboard.models import ClientRollup, OrderRollup
from history.models import Entry
from timeline.models import Note, Task
from timeline.tests.factories import NoteFactory, TaskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_client():
    """A client with an avatar, three orders (one done), a note and a task."""
    client = ClientFactory(name="Ada", email="ada@mail.test", phone="+49 30 1234567")
    client.avatar = upload(image_bytes())
    client.save()
    OrderFactory(client=client, amount=Decimal("10.50"), status=Order.Status.NEW)
    OrderFactory(client=client, amount=Decimal("20.25"), status=Order.Status.DONE)
    OrderFactory(client=client, amount=Decimal("0.05"), status=Order.Status.IN_PROGRESS)
    NoteFactory(client=client)
    TaskFactory(client=client)
    client.refresh_from_db()
    return client


def rows_of(client_id: int) -> dict:
    return {
        "orders": list(Order.objects.filter(client_id=client_id).order_by("pk").values()),
        "notes": list(Note.objects.filter(client_id=client_id).order_by("pk").values()),
        "tasks": list(Task.objects.filter(client_id=client_id).order_by("pk").values()),
    }


def dashboard_totals() -> tuple:
    orders = OrderRollup.objects.aggregate(n=Sum("orders_count"), amount=Sum("amount"))
    clients = ClientRollup.objects.aggregate(n=Sum("clients_count"))
    return orders["n"] or 0, orders["amount"] or 0, clients["n"] or 0


# --- Trash and restore ----------------------------------------------------------------------
def test_a_trashed_client_leaves_every_list_and_total(full_client, member):
    other = OrderFactory()
    client_trash(client_id=full_client.pk, user=member)
    assert not Client.objects.filter(pk=full_client.pk).exists()
    assert list(Order.objects.all()) == [other]
    assert not Note.objects.exists()
    assert not Task.objects.exists()
    assert dashboard_totals() == (1, other.amount, 1)  # the dashboard's roll-ups
    trashed = TrashedClient.objects.get()
    assert (trashed.client_id, trashed.name, trashed.orders_count) == (full_client.pk, "Ada", 3)
    assert trashed.orders_total == Decimal("30.80")
    assert trashed.deleted_by == member
    assert trashed.restorable_until == trashed.deleted_at + timedelta(days=settings.TRASH_DAYS)
    entry = Entry.objects.get(client_id=full_client.pk, event=Entry.Event.TRASH)
    assert entry.action == Entry.Action.DELETE


def test_a_restored_client_comes_back_as_it_was(full_client, member):
    before = Client.objects.filter(pk=full_client.pk).values().get()
    rows = rows_of(full_client.pk)
    totals = dashboard_totals()
    avatar = Path(settings.MEDIA_ROOT) / full_client.avatar.name
    client_trash(client_id=full_client.pk, user=member)
    assert avatar.exists()  # kept for the restore

    result = client_restore(client_id=full_client.pk)

    assert result.client.pk == full_client.pk
    assert result.orders == 3
    assert not result.merged
    # Every field, the roll-ups and the microseconds of every date included.
    assert Client.objects.filter(pk=full_client.pk).values().get() == before
    assert rows_of(full_client.pk) == rows
    assert dashboard_totals() == totals
    assert totals_drift() == []
    assert not TrashedClient.objects.exists()
    assert Entry.objects.filter(client_id=full_client.pk, event=Entry.Event.RESTORE).exists()


def test_a_user_deleted_meanwhile_is_forgotten_by_the_restored_rows(member):
    author = UserFactory()
    client = ClientFactory()
    note = NoteFactory(client=client, author=author)
    task = TaskFactory(client=client, assignee=author, created_by=author)
    client_trash(client_id=client.pk, user=member)
    author.delete()
    client_restore(client_id=client.pk)
    note.refresh_from_db()
    task.refresh_from_db()
    assert (note.author, task.assignee, task.created_by) == (None, None, None)


def test_what_a_client_delete_would_take_is_what_goes_to_the_trash():
    # Every model that cascades from a client is kept with it; none cascades further (its rows
    # would be deleted by the trash's DELETE without being kept).
    labels = {model._meta.label_lower for model, _column in _dependents()}
    assert labels == {"clients.order", "timeline.note", "timeline.task"}
    for model, _column in _dependents():
        cascading = [r for r in model._meta.related_objects if r.on_delete.__name__ == "CASCADE"]
        assert cascading == [], model


def test_trashing_a_client_gone_meanwhile_is_refused_clearly():
    with pytest.raises(TrashError) as error:
        client_trash(client_id=12345)
    assert error.value.code == "not_found"
    assert not TrashedClient.objects.exists()


def test_a_restore_of_what_is_not_in_the_trash_is_refused():
    with pytest.raises(TrashError) as error:
        client_restore(client_id=12345)
    assert error.value.code == "not_found"


def test_a_new_client_may_take_a_trashed_email_and_the_restore_then_offers_the_merge(
    full_client, member
):
    client_trash(client_id=full_client.pk, user=member)
    taken = ClientFactory(email="ada@mail.test", phone="")
    with pytest.raises(TrashError) as error:
        client_restore(client_id=full_client.pk)
    assert error.value.code == "email_taken"
    assert error.value.client == taken
    assert TrashedClient.objects.exists()  # nothing half-done

    result = client_restore(client_id=full_client.pk, into_id=taken.pk)

    assert result.merged
    assert result.client == taken
    assert result.orders == 3
    taken.refresh_from_db()
    assert taken.orders_count == 3
    assert taken.phone == "+49 30 1234567"
    assert taken.avatar  # the trashed client's avatar fills the empty one
    assert taken.notes.count() == 1
    assert taken.tasks.count() == 1
    assert not Client.objects.filter(pk=full_client.pk).exists()
    assert not TrashedClient.objects.exists()
    assert Entry.objects.filter(client_id=taken.pk, event=Entry.Event.MERGE).exists()
    assert totals_drift() == []


# --- The purge --------------------------------------------------------------------------------
def test_the_daily_purge_deletes_what_is_older_than_trash_days(
    full_client, member, django_capture_on_commit_callbacks
):
    young = ClientFactory()
    avatar = Path(settings.MEDIA_ROOT) / full_client.avatar.name
    client_trash(client_id=full_client.pk, user=member)
    client_trash(client_id=young.pk, user=member)
    TrashedClient.objects.filter(client_id=full_client.pk).update(
        deleted_at=timezone.now() - timedelta(days=settings.TRASH_DAYS, minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert purge_trash() == {"purged": 1}
    assert list(TrashedClient.objects.values_list("client_id", flat=True)) == [young.pk]
    assert not avatar.exists()


def test_a_purge_keeps_a_file_a_live_client_uses(django_capture_on_commit_callbacks, member):
    client = ClientFactory()
    client.avatar = upload(image_bytes())
    client.save()
    name = client.avatar.name
    client_trash(client_id=client.pk, user=member)
    ClientFactory(avatar=name)  # e.g. merged into a live client
    with django_capture_on_commit_callbacks(execute=True):
        trash_purge()
    assert (Path(settings.MEDIA_ROOT) / name).exists()


# --- Pages ------------------------------------------------------------------------------------
def test_the_delete_page_says_until_when_it_is_restorable(member_client):
    client = ClientFactory(name="Gone")
    until = timezone.localdate() + timedelta(days=settings.TRASH_DAYS)
    html = member_client.get(f"/clients/{client.pk}/edit/delete/").text
    assert "will be moved to the trash, restorable until" in html
    assert until.strftime("%b") in html
    assert str(until.year) in html


def test_the_trash_page_lists_searches_and_restores(member_client, member, full_client):
    other = ClientFactory(name="Bob", email="bob@mail.test")
    client_trash(client_id=full_client.pk, user=member)
    client_trash(client_id=other.pk, user=member)
    page = member_client.get("/clients/trash/")
    assert page.status_code == 200
    assert "2 clients in the trash" in page.text
    assert "by member" in page.text
    searched = member_client.get("/clients/trash/", {"q": "ADA@"})
    assert list(searched.context["trashed"]) == [TrashedClient.objects.get(name="Ada")]
    assert "Nothing in the trash matches" in member_client.get("/clients/trash/?q=zzz").text

    response = member_client.post(f"/clients/{full_client.pk}/restore/", follow=True)
    assert response.redirect_chain == [(f"/clients/{full_client.pk}/", 302)]
    assert "“Ada” was restored with its 3 orders." in response.text
    assert Client.objects.get(pk=full_client.pk).orders_count == 3


def test_the_trash_page_is_empty_first(member_client):
    assert "The trash is empty." in member_client.get("/clients/trash/").text


def test_the_trash_page_costs_the_same_queries_for_2_rows_or_12_and_skips_the_kept_rows(
    member_client, member, django_assert_num_queries, session_queries
):
    def trash(count):
        for _ in range(count):
            client = ClientFactory()
            OrderFactory.create_batch(2, client=client)
            client_trash(client_id=client.pk, user=UserFactory())

    trash(2)
    member_client.get("/clients/trash/")  # the permissions, cached from here on
    # The session (none from Redis), the user, the page's COUNT(*), and the rows with who
    # deleted each (joined): never one per row, never the snapshots.
    with django_assert_num_queries(session_queries + 3) as captured:
        member_client.get("/clients/trash/")
    trash(10)
    with django_assert_num_queries(session_queries + 3):
        member_client.get("/clients/trash/")
    trash_queries = [q["sql"] for q in captured.captured_queries if "trashedclient" in q["sql"]]
    assert trash_queries
    assert all('"rows"' not in sql for sql in trash_queries)


def test_restoring_a_client_whose_email_is_taken_offers_the_merge(member_client, member):
    client = ClientFactory(name="Ada", email="ada@mail.test")
    OrderFactory(client=client)
    client_trash(client_id=client.pk, user=member)
    taken = ClientFactory(name="New Ada", email="ada@mail.test")
    response = member_client.post(f"/clients/{client.pk}/restore/")
    assert response.status_code == 409
    assert "“New Ada” now has the email ada@mail.test" in response.text
    assert f'name="into" value="{taken.pk}"' in response.text
    merged = member_client.post(f"/clients/{client.pk}/restore/", {"into": taken.pk}, follow=True)
    assert merged.redirect_chain == [(f"/clients/{taken.pk}/", 302)]
    assert "Merged the trashed client into “New Ada”: 1 order moved." in merged.text


def test_a_junk_merge_target_is_a_400_and_a_gone_one_a_message(member_client, member):
    client = ClientFactory()
    client_trash(client_id=client.pk, user=member)
    assert member_client.post(f"/clients/{client.pk}/restore/", {"into": "x"}).status_code == 400
    gone = member_client.post(f"/clients/{client.pk}/restore/", {"into": 999999}, follow=True)
    assert "Client #999999 no longer exists." in gone.text
    assert TrashedClient.objects.exists()
    again = member_client.post("/clients/424242/restore/", follow=True)
    assert "no longer in the trash" in again.text


def test_restore_is_a_post(member_client, member):
    client = ClientFactory()
    client_trash(client_id=client.pk, user=member)
    assert member_client.get(f"/clients/{client.pk}/restore/").status_code == 405


@pytest.mark.parametrize("persona", ["sales", "viewer", "nobody"])
def test_only_who_may_delete_sees_or_restores_the_trash(client, request, persona, member):
    trashed = ClientFactory()
    client_trash(client_id=trashed.pk, user=member)
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/clients/trash/").status_code == 403
    assert client.post(f"/clients/{trashed.pk}/restore/").status_code == 403
    assert client.post("/clients/trash/empty/").status_code == 403
    assert TrashedClient.objects.count() == 1


def test_a_guest_is_sent_to_log_in(client):
    response = client.get("/clients/trash/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_merging_on_restore_needs_the_merge_permission(client, member):
    from django.contrib.auth.models import Permission

    deleter = UserFactory()
    deleter.user_permissions.add(Permission.objects.get(codename="delete_client"))
    trashed = ClientFactory(email="ada@mail.test")
    client_trash(client_id=trashed.pk, user=member)
    taken = ClientFactory(email="ada@mail.test")
    client.force_login(deleter)
    conflict = client.post(f"/clients/{trashed.pk}/restore/")
    assert conflict.status_code == 409
    assert "needs the merge permission" in conflict.text
    assert client.post(f"/clients/{trashed.pk}/restore/", {"into": taken.pk}).status_code == 403


def test_superusers_empty_the_trash_managers_do_not(client, member_client, member):
    trashed = ClientFactory()
    client_trash(client_id=trashed.pk, user=member)
    assert "Empty the trash" not in member_client.get("/clients/trash/").text
    assert member_client.post("/clients/trash/empty/").status_code == 403
    root = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(root)
    assert "Empty the trash" in client.get("/clients/trash/").text
    assert "1 client</strong> and everything it held" in client.get("/clients/trash/empty/").text
    response = client.post("/clients/trash/empty/", follow=True)
    assert "The trash was emptied: 1 client deleted for good." in response.text
    assert not TrashedClient.objects.exists()


# --- The admin --------------------------------------------------------------------------------
def test_the_admins_delete_moves_to_the_trash(client):
    root = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(root)
    one, two = ClientFactory(), ClientFactory()
    OrderFactory(client=one)
    client.post(f"/admin/clients/client/{one.pk}/delete/", {"post": "yes"})
    client.post(
        "/admin/clients/client/",
        {"action": "delete_selected", "_selected_action": [two.pk], "post": "yes"},
    )
    assert set(TrashedClient.objects.values_list("client_id", flat=True)) == {one.pk, two.pk}
    assert not Client.objects.exists()
    assert not Order.objects.exists()
    trash_id = TrashedClient.objects.get(client_id=one.pk).pk
    client.post(
        "/admin/clients/trashedclient/", {"action": "restore", "_selected_action": [trash_id]}
    )
    assert Client.objects.get().orders_count == 1


def test_the_history_says_trashed_and_restored(member):
    from history.display import headline

    client = ClientFactory()
    OrderFactory(client=client)
    client_trash(client_id=client.pk, user=member)
    client_restore(client_id=client.pk)
    entries = Entry.objects.filter(client_id=client.pk).exclude(event="").order_by("pk")
    assert [headline(entry) for entry in entries] == [
        "Moved to the trash with its 1 order",
        "Restored from the trash with its 1 order",
    ]


def test_a_client_without_orders_is_trashed_and_restored_in_plain_words(member_client, member):
    client = ClientFactory(name="Chloé")
    response = member_client.post(f"/clients/{client.pk}/edit/delete/", follow=True)
    assert "“Chloé” was moved to the trash, restorable until" in response.text
    restored = member_client.post(f"/clients/{client.pk}/restore/", follow=True)
    assert "“Chloé” was restored." in restored.text


def test_a_trashed_clients_old_links_lead_to_the_trash(member_client, member, client, sales):
    trashed = ClientFactory(name="Gone", email="gone@mail.test")
    client_trash(client_id=trashed.pk, user=member)
    for url in (f"/clients/{trashed.pk}/", f"/clients/{trashed.pk}/edit/delete/"):
        method = member_client.get if url.endswith(f"{trashed.pk}/") else member_client.post
        response = method(url, follow=True)
        assert response.redirect_chain[-1][0] == "/clients/trash/?q=gone%40mail.test"
        assert "“Gone” is in the trash: restore it from there." in response.text
    # Who may not see the trash gets the 404 of before; an id never used, too.
    client.force_login(sales)
    assert client.get(f"/clients/{trashed.pk}/").status_code == 404
    assert member_client.get("/clients/987654/").status_code == 404


def test_the_trash_is_cards_on_a_phone_and_searches_say_so(member_client, member):
    trashed = ClientFactory(name="Ada", email="ada@mail.test")
    client_trash(client_id=trashed.pk, user=member)
    html = member_client.get("/clients/trash/", {"q": "ada"}).text
    assert 'class="striped client-table"' in html  # the list's card layout below 576 px
    assert "1 client in the trash matching “ada”" in html


def test_a_restore_racing_a_new_client_for_the_email_offers_the_merge(member, monkeypatch):
    from clients import services

    trashed = ClientFactory(email="ada@mail.test")
    client_trash(client_id=trashed.pk, user=member)
    checks = iter([None])  # the first check finds the email free, as the race's loser does
    real = services._email_free_or_raise

    def racing(email):
        if next(checks, "again") is None:
            ClientFactory(email=email)  # created meanwhile, by someone else
            return None
        return real(email)

    monkeypatch.setattr(services, "_email_free_or_raise", racing)
    with pytest.raises(TrashError) as error:
        client_restore(client_id=trashed.pk)
    assert error.value.code == "email_taken"
    assert TrashedClient.objects.exists()


def test_emptying_keeps_what_was_trashed_after_it_read_the_trash(member, monkeypatch):
    from clients import services

    first = ClientFactory()
    client_trash(client_id=first.pk, user=member)
    late = ClientFactory()
    real_delete = TrashedClient.objects.filter

    def filter_then_trash(*args, **kwargs):  # the purge's DELETE, after its locked read
        if "pk__in" in kwargs and not TrashedClient.objects.filter(client_id=late.pk).exists():
            client_trash(client_id=late.pk, user=member)
        return real_delete(*args, **kwargs)

    monkeypatch.setattr(TrashedClient.objects, "filter", filter_then_trash)
    assert services.trash_purge() == 1
    monkeypatch.undo()
    assert list(TrashedClient.objects.values_list("client_id", flat=True)) == [late.pk]


def test_deleting_for_good_in_the_admin_deletes_the_avatar_too(
    client, member, django_capture_on_commit_callbacks
):
    trashed = ClientFactory()
    trashed.avatar = upload(image_bytes())
    trashed.save()
    avatar = Path(settings.MEDIA_ROOT) / trashed.avatar.name
    client_trash(client_id=trashed.pk, user=member)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    pk = TrashedClient.objects.get().pk
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/clients/trashedclient/{pk}/delete/", {"post": "yes"})
    assert not TrashedClient.objects.exists()
    assert not avatar.exists()


@pytest.mark.parametrize("junk", ["²", "１２", "1e3", " 7"])
def test_ids_that_only_look_like_numbers_are_refused_cleanly(member_client, junk):
    trashed = ClientFactory()
    client_trash(client_id=trashed.pk)
    response = member_client.post(f"/clients/{trashed.pk}/restore/", {"into": junk})
    assert response.status_code == 400


def test_the_trash_pages_and_a_huge_search_is_no_error(member_client, member):
    for _ in range(27):
        client_trash(client_id=ClientFactory().pk, user=member)
    html = member_client.get("/clients/trash/").text
    assert 'href="?page=2"' in html
    assert member_client.get("/clients/trash/", {"q": "x" * 60_000}).status_code == 200
    assert member_client.get("/clients/", {"q": "x" * 60_000}).status_code == 200


def test_merging_into_a_client_with_an_avatar_keeps_its_file_and_drops_the_trashed_one(
    member, django_capture_on_commit_callbacks
):
    from dashboard.services import rollups_drift

    trashed = ClientFactory(email="ada@mail.test")
    trashed.avatar = upload(image_bytes())
    trashed.save()
    OrderFactory.create_batch(2, client=trashed)
    old_file = Path(settings.MEDIA_ROOT) / trashed.avatar.name
    client_trash(client_id=trashed.pk, user=member)
    taken = ClientFactory(email="ada@mail.test")
    taken.avatar = upload(image_bytes("GIF"), "t.gif")
    taken.save()
    kept_file = Path(settings.MEDIA_ROOT) / taken.avatar.name

    with django_capture_on_commit_callbacks(execute=True):
        client_restore(client_id=trashed.pk, into_id=taken.pk)

    taken.refresh_from_db()
    assert Path(settings.MEDIA_ROOT) / taken.avatar.name == kept_file
    assert kept_file.exists()
    assert not old_file.exists()  # nothing points at it any more
    assert taken.orders_count == 2
    assert totals_drift() == []
    assert rollups_drift() == []
