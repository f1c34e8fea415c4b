"""The pages of notes and tasks: the client page's timeline and composer, the forms, /tasks/,
/notes/, each as every role."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import Order
from clients.permissions import SALES
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory
from timeline.models import Note, Task
from timeline.tests.factories import NoteFactory, TaskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    return ClientFactory(name="Acme")


def login(client, user):
    client.force_login(user)
    return client


# --- Notes ----------------------------------------------------------------------------------
def test_sales_adds_a_note_from_the_client_page(client, sales, acme):
    login(client, sales)
    page = client.get(f"/clients/{acme.pk}/").text
    assert f'action="/clients/{acme.pk}/notes/add/"' in page
    response = client.post(f"/clients/{acme.pk}/notes/add/", {"note-body": "  Called: **quote**  "})
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{acme.pk}/#timeline"
    note = Note.objects.get()
    assert (note.client, note.author, note.body) == (acme, sales, "Called: **quote**")
    page = client.get(f"/clients/{acme.pk}/").text
    assert "Note added." in page
    assert "Called: <strong>quote</strong>" in page


@pytest.mark.parametrize("body", ["", "   \n  ", "x" * 10_001])
def test_an_empty_or_too_long_note_is_a_form_error_and_nothing_is_saved(client, sales, acme, body):
    login(client, sales)
    response = client.post(f"/clients/{acme.pk}/notes/add/", {"note-body": body})
    assert response.status_code == 200
    assert response.context["form"].errors["body"]
    assert 'aria-invalid="true"' in response.text
    assert not Note.objects.exists()


def test_a_note_on_an_unknown_client_is_a_404(client, sales):
    login(client, sales)
    assert client.post("/clients/999999/notes/add/", {"note-body": "x"}).status_code == 404
    assert not Note.objects.exists()


def test_a_viewer_reads_notes_but_has_no_composer_and_cannot_post(client, viewer, acme):
    NoteFactory(client=acme, body="Met at the fair")
    login(client, viewer)
    page = client.get(f"/clients/{acme.pk}/").text
    assert "Met at the fair" in page
    assert "/notes/add/" not in page
    assert "/tasks/add/" not in page
    assert client.post(f"/clients/{acme.pk}/notes/add/", {"note-body": "x"}).status_code == 403
    assert Note.objects.count() == 1


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, acme):
    response = client.post(f"/clients/{acme.pk}/notes/add/", {"note-body": "x"})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert not Note.objects.exists()


def test_the_author_edits_their_note_and_the_edit_is_in_the_history(client, sales, acme):
    note = NoteFactory(client=acme, author=sales, body="First")
    login(client, sales)
    url = f"/clients/{acme.pk}/notes/{note.pk}/edit/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"body": "Second"}).status_code == 302
    note.refresh_from_db()
    assert note.body == "Second"
    entry = note_entries(note).get(action=1)
    assert entry.changes == {"body": ["First", "Second"]}
    assert entry.actor == sales
    assert entry.via == "page"


def note_entries(note):
    from history.models import Entry

    return Entry.objects.filter(
        content_type=ContentType.objects.get_for_model(Note), object_id=note.pk
    )


def test_sales_cannot_edit_or_delete_anothers_note(client, sales, acme):
    other = UserFactory(roles=[SALES])
    note = NoteFactory(client=acme, author=other, body="Theirs")
    login(client, sales)
    page = client.get(f"/clients/{acme.pk}/").text
    assert f"/notes/{note.pk}/edit/" not in page
    assert (
        client.post(f"/clients/{acme.pk}/notes/{note.pk}/edit/", {"body": "Mine"}).status_code
        == 403
    )
    assert client.post(f"/clients/{acme.pk}/notes/{note.pk}/delete/").status_code == 403
    note.refresh_from_db()
    assert note.body == "Theirs"


def test_a_manager_edits_and_deletes_anyones_note(client, member, sales, acme):
    note = NoteFactory(client=acme, author=sales, body="Theirs")
    login(client, member)
    assert f"/notes/{note.pk}/edit/" in client.get(f"/clients/{acme.pk}/").text
    assert (
        client.post(f"/clients/{acme.pk}/notes/{note.pk}/edit/", {"body": "Fixed"}).status_code
        == 302
    )
    assert client.get(f"/clients/{acme.pk}/notes/{note.pk}/delete/").status_code == 200
    assert client.post(f"/clients/{acme.pk}/notes/{note.pk}/delete/").status_code == 302
    assert not Note.objects.exists()
    assert note_entries(note).filter(action=2).count() == 1  # the deletion is in the history


def test_a_note_under_another_clients_url_is_a_404(client, member, acme):
    note = NoteFactory(body="Elsewhere")
    login(client, member)
    assert client.get(f"/clients/{acme.pk}/notes/{note.pk}/edit/").status_code == 404


def test_note_search_finds_words_in_any_case_with_the_client(client, viewer, acme):
    NoteFactory(client=acme, body="Wants a QUOTE by Friday")
    NoteFactory(body="Nothing to see")
    login(client, viewer)
    response = client.get("/notes/?q=quote")
    assert response.status_code == 200
    assert [n.body for n in response.context["notes"]] == ["Wants a QUOTE by Friday"]
    assert "Acme" in response.text
    assert "1 note" in response.text
    empty = client.get("/notes/?q=zebra").text
    assert "No note contains “zebra”." in empty
    assert client.get("/notes/?q=%00").status_code == 200


def test_note_search_needs_the_view_permission(client, nobody):
    login(client, nobody)
    assert client.get("/notes/").status_code == 403


def test_note_search_is_a_constant_number_of_queries(client, viewer, session_queries):
    login(client, viewer)
    client.get("/notes/")  # the permissions, cached from here on
    counts = []
    for notes in (2, 20):
        NoteFactory.create_batch(notes - Note.objects.count())
        with CaptureQueriesContext(connection) as ctx:
            client.get("/notes/")
        counts.append(len(ctx.captured_queries))
    # The session (unless cached), the user, COUNT(*), the page's notes with their client and
    # author.
    assert counts[0] == counts[1] == session_queries + 3


# --- Tasks ----------------------------------------------------------------------------------
def test_sales_adds_a_task_for_a_colleague(client, sales, member, acme):
    login(client, sales)
    page = client.get(f"/clients/{acme.pk}/").text
    assert f'action="/clients/{acme.pk}/tasks/add/"' in page
    due = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/clients/{acme.pk}/tasks/add/",
        {"task-title": "Send the quote", "task-due_at": due, "task-assignee": member.pk},
    )
    assert response.status_code == 302
    task = Task.objects.get()
    assert (task.title, task.assignee, task.created_by, task.done) == (
        "Send the quote",
        member,
        sales,
        False,
    )


@pytest.mark.parametrize(
    "data",
    [
        {"task-title": "", "task-due_at": "2026-12-24T10:00"},
        {"task-title": "x", "task-due_at": "not a date"},
        {"task-title": "x", "task-due_at": ""},
        {"task-title": "x", "task-due_at": "2026-12-24T10:00", "task-assignee": "999999"},
        {"task-title": "x" * 201, "task-due_at": "2026-12-24T10:00"},
    ],
)
def test_bad_task_input_is_a_form_error_and_nothing_is_saved(client, sales, acme, data):
    login(client, sales)
    data = {"task-assignee": sales.pk, **data}
    response = client.post(f"/clients/{acme.pk}/tasks/add/", data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Task.objects.exists()


def test_an_inactive_user_cannot_be_given_a_task(client, sales, acme):
    gone = UserFactory(roles=[SALES], is_active=False)
    login(client, sales)
    response = client.post(
        f"/clients/{acme.pk}/tasks/add/",
        {"task-title": "x", "task-due_at": "2026-12-24T10:00", "task-assignee": gone.pk},
    )
    assert response.context["form"].errors["assignee"]
    assert not Task.objects.exists()


def test_the_assignee_ticks_a_task_off_without_javascript_and_opens_it_again(client, sales, acme):
    task = TaskFactory(client=acme, assignee=sales)
    login(client, sales)
    response = client.post(f"/tasks/{task.pk}/done/", {"done": "1", "next": "/tasks/"})
    assert response.status_code == 302
    assert response["Location"] == "/tasks/"
    task.refresh_from_db()
    assert task.done
    assert task.done_at is not None
    client.post(f"/tasks/{task.pk}/done/", {"next": "/tasks/"})
    task.refresh_from_db()
    assert not task.done
    assert task.done_at is None


def test_done_goes_back_only_to_our_own_pages(client, sales, acme):
    task = TaskFactory(client=acme, assignee=sales)
    login(client, sales)
    response = client.post(f"/tasks/{task.pk}/done/", {"done": "1", "next": "https://evil.test/"})
    assert response["Location"] == f"/clients/{acme.pk}/#timeline"


def test_done_is_post_only(client, sales, acme):
    task = TaskFactory(client=acme, assignee=sales)
    login(client, sales)
    assert client.get(f"/tasks/{task.pk}/done/").status_code == 405


def test_sales_cannot_touch_a_task_neither_theirs_nor_given_to_them(client, sales, acme):
    other = UserFactory(roles=[SALES])
    task = TaskFactory(client=acme, assignee=other)
    login(client, sales)
    assert client.post(f"/tasks/{task.pk}/done/", {"done": "1"}).status_code == 403
    assert client.get(f"/tasks/{task.pk}/edit/").status_code == 403
    assert client.post(f"/tasks/{task.pk}/delete/").status_code == 403
    task.refresh_from_db()
    assert not task.done


def test_a_viewer_cannot_tick_off_even_their_own_task(client, viewer, acme):
    task = TaskFactory(client=acme, assignee=viewer)
    login(client, viewer)
    assert client.post(f"/tasks/{task.pk}/done/", {"done": "1"}).status_code == 403


def test_a_manager_edits_and_deletes_anyones_task(client, member, sales, acme):
    task = TaskFactory(client=acme, assignee=sales)
    login(client, member)
    response = client.post(
        f"/tasks/{task.pk}/edit/",
        {"title": "Renamed", "due_at": "2027-01-05T09:30", "assignee": member.pk},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.title, task.assignee) == ("Renamed", member)
    assert client.post(f"/tasks/{task.pk}/delete/").status_code == 302
    assert not Task.objects.exists()


def test_my_tasks_lists_overdue_then_today_then_later_and_not_others(client, sales, acme):
    now = timezone.localtime()
    later = TaskFactory(
        client=acme, assignee=sales, title="Later", due_at=now + datetime.timedelta(days=3)
    )
    overdue = TaskFactory(
        client=acme, assignee=sales, title="Overdue", due_at=now - datetime.timedelta(days=1)
    )
    end_of_today = now.replace(hour=23, minute=59)
    today = TaskFactory(
        client=acme,
        assignee=sales,
        title="Today",
        due_at=max(end_of_today, now + datetime.timedelta(seconds=30)),
    )
    TaskFactory(client=acme, title="Someone else's")
    TaskFactory(client=acme, assignee=sales, title="Finished", done=True)
    login(client, sales)
    response = client.get("/tasks/")
    groups = {key: [t.title for t in tasks] for key, _label, tasks in response.context["groups"]}
    if today.due_at.date() == now.date():
        assert groups == {
            "overdue": ["Overdue"],
            "today": ["Today"],
            "later": ["Later"],
            "done": [],
        }
    text = response.text
    assert text.index("Overdue") < text.index("Later")
    assert "Someone else" not in text
    assert "Finished" not in text
    assert later
    assert overdue


def test_tasks_filter_by_assignee_and_done(client, sales, member, acme):
    TaskFactory(client=acme, assignee=member, title="Managers open")
    TaskFactory(client=acme, assignee=member, title="Managers done", done=True)
    login(client, sales)
    titles = lambda url: [t.title for _k, _l, ts in client.get(url).context["groups"] for t in ts]  # noqa: E731
    assert titles(f"/tasks/?assignee={member.pk}") == ["Managers open"]
    assert titles(f"/tasks/?assignee={member.pk}&done=1") == ["Managers done"]
    assert sorted(titles("/tasks/?assignee=all&done=all")) == ["Managers done", "Managers open"]
    assert titles("/tasks/?assignee=junk&done=junk") == ["Managers open"]  # junk: everyone, open


def test_my_tasks_empty_state(client, sales):
    login(client, sales)
    assert "Nothing to do: no open tasks." in client.get("/tasks/").text


def test_tasks_is_a_constant_number_of_queries(client, sales, acme, session_queries):
    login(client, sales)
    client.get("/tasks/")
    counts = []
    for total in (2, 20):
        while Task.objects.count() < total:
            TaskFactory(client=ClientFactory(), assignee=sales)
        with CaptureQueriesContext(connection) as ctx:
            client.get("/tasks/")
        counts.append(len(ctx.captured_queries))
    # The session (unless cached), the user, the tasks with their client and assignee, the
    # assignee menu.
    assert counts[0] == counts[1] == session_queries + 3


# --- The timeline on the client page --------------------------------------------------------
def test_the_timeline_mixes_notes_tasks_orders_and_changes_newest_first(client, member, acme):
    login(client, member)
    client.post(
        f"/clients/{acme.pk}/edit/", {"name": "Acme Corp", "email": acme.email, "phone": ""}
    )
    OrderFactory(client=acme, title="Widgets")
    NoteFactory(client=acme, body="Called")
    TaskFactory(client=acme, title="Send the quote", assignee=member)
    items = client.get(f"/clients/{acme.pk}/").context["timeline"].items
    assert [i.kind for i in items][:4] == ["task", "note", "order", "change"]
    page = client.get(f"/clients/{acme.pk}/").text
    assert "Client details changed" in page
    assert "Acme Corp" in page


@pytest.mark.parametrize("kind", ["note", "task", "order", "change"])
def test_the_timeline_filters_by_kind(client, member, acme, kind):
    OrderFactory(client=acme)
    NoteFactory(client=acme)
    TaskFactory(client=acme, assignee=member)
    acme.name = "Renamed"
    acme.save()
    login(client, member)
    items = client.get(f"/clients/{acme.pk}/?kind={kind}").context["timeline"].items
    assert items
    assert {i.kind for i in items} == {kind}


def test_show_older_pages_through_everything_once(client, member, acme):
    now = timezone.now()
    for i in range(30):
        NoteFactory(client=acme, body=f"n{i}", created_at=now - datetime.timedelta(minutes=i))
    # Ties: an import's orders share one instant.
    Order.objects.bulk_create(
        [
            Order(
                client=acme, title=f"o{i}", amount=1, created_at=now - datetime.timedelta(minutes=5)
            )
            for i in range(10)
        ]
    )
    login(client, member)
    seen, url = [], f"/clients/{acme.pk}/timeline/"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = response.context["timeline"]
        assert len(page.items) <= 25
        seen += [(i.kind, i.obj.pk) for i in page.items]
        older = response["X-Timeline-Older"]
        url = f"/clients/{acme.pk}/timeline/?before={older}" if older else None
    notes_and_orders = [s for s in seen if s[0] in ("note", "order")]
    assert len(notes_and_orders) == len(set(notes_and_orders)) == 40
    html = client.get(f"/clients/{acme.pk}/").text
    assert 'id="timeline-older"' in html
    assert "Show older" in html


@pytest.mark.parametrize("before", ["junk", "1_nope_1", "99999999999999999999_note_1", ""])
def test_a_junk_cursor_starts_at_the_newest(client, member, acme, before):
    NoteFactory(client=acme)
    login(client, member)
    response = client.get(f"/clients/{acme.pk}/?before={before}")
    assert response.status_code == 200


def test_the_empty_timeline_says_what_will_show(client, member, acme):
    login(client, member)
    page = client.get(f"/clients/{acme.pk}/?kind=note").text
    assert "Nothing of this kind yet." in page


def test_the_timeline_page_is_a_constant_number_of_queries(client, member, session_queries):
    """10 items of each kind or 40: the same queries (one UNION ALL, then one query per kind)."""
    login(client, member)
    counts = []
    for per_kind in (3, 30):
        acme = ClientFactory()
        for i in range(per_kind):
            OrderFactory(client=acme)
            NoteFactory(client=acme)
            TaskFactory(client=acme, assignee=member)
            acme.name = f"Acme {i}"
            acme.save()
        client.get(f"/clients/{acme.pk}/")
        with CaptureQueriesContext(connection) as ctx:
            client.get(f"/clients/{acme.pk}/")
        counts.append(len(ctx.captured_queries))
    # The session, the user, the client, COUNT(*) and the page of its orders; the timeline:
    # the UNION ALL, then the page's history entries, notes (with authors), orders and tasks
    # (with assignees) by id; the open tasks, the assignee menu.
    assert counts[0] == counts[1] == session_queries + 11


def test_a_role_without_notes_and_tasks_sees_neither_nor_their_history(client, acme):
    """A group of the admin's making, with clients and orders only."""
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.create(name="Clients only")
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label="clients", codename__in=["view_client", "view_order"]
        )
    )
    reader = UserFactory()
    reader.groups.add(group)
    note = NoteFactory(client=acme, body="Secret plan")
    note.body = "Secret plan, edited"
    note.save()
    TaskFactory(client=acme, title="Hidden task")
    OrderFactory(client=acme, title="Visible order")
    login(client, reader)
    response = client.get(f"/clients/{acme.pk}/")
    kinds = {item.kind for item in response.context["timeline"].items}
    assert kinds <= {"order", "change"}
    text = response.text
    assert "Secret plan" not in text
    assert "Hidden task" not in text
    assert "Next up" not in text
    assert "Visible order" in text
    assert 'href="?kind=note#timeline"' not in text
    # Asking for notes anyway shows what the reader may see.
    forced = client.get(f"/clients/{acme.pk}/?kind=note").context["timeline"].items
    assert {item.kind for item in forced} <= {"order", "change"}


def test_the_fragments_task_forms_come_back_to_the_client_page(client, sales, acme):
    task = TaskFactory(client=acme, assignee=sales)
    login(client, sales)
    html = client.get(f"/clients/{acme.pk}/timeline/").text
    assert f'name="next" value="/clients/{acme.pk}/#timeline"' in html
    assert f"/tasks/{task.pk}/edit/?next=/clients/{acme.pk}/%23timeline" in html


@pytest.mark.parametrize("assignee", ["²", "99999999999999999999999", "-1", "1.5"])
def test_a_junk_assignee_lists_everyones_tasks(client, sales, acme, assignee):
    TaskFactory(client=acme, title="Someone's")
    login(client, sales)
    response = client.get(f"/tasks/?assignee={assignee}")
    assert response.status_code == 200
    assert "Someone&#x27;s" in response.text or "Someone's" in response.text


@pytest.mark.parametrize("due", ["0001-01-01T00:30", "9999-12-31T23:59"])
def test_a_due_date_no_database_stores_is_a_form_error(client, sales, acme, settings, due):
    settings.TIME_ZONE = "Europe/Berlin" if due.startswith("0001") else "America/New_York"
    login(client, sales)
    response = client.post(
        f"/clients/{acme.pk}/tasks/add/",
        {"task-title": "x", "task-due_at": due, "task-assignee": sales.pk},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["due_at"]
    assert not Task.objects.exists()


def test_only_who_may_tick_tasks_off_can_be_given_one(client, sales, viewer, acme):
    login(client, sales)
    menu = [
        user.pk
        for user in client.get(f"/clients/{acme.pk}/")
        .context["task_form"]
        .fields["assignee"]
        .queryset
    ]
    assert sales.pk in menu
    assert viewer.pk not in menu
    response = client.post(
        f"/clients/{acme.pk}/tasks/add/",
        {"task-title": "x", "task-due_at": "2027-01-05T09:00", "task-assignee": viewer.pk},
    )
    assert response.context["form"].errors["assignee"]
