"""/api/notes/ and /api/tasks/: fields, filters, validation, who may do what (the roles, staff
status for writes, then the object rule: one's own for Sales, anyone's for Managers), and
constant query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clients.permissions import MANAGERS, SALES, VIEWERS
from clients.tests.factories import ClientFactory, UserFactory
from history.models import Entry
from timeline.models import NOTE_MAX_LENGTH, Note, Task
from timeline.tests.factories import NoteFactory, TaskFactory

pytestmark = pytest.mark.django_db

NOTE_FIELDS = {"id", "client", "body", "body_html", "author", "author_name", "created_at"}
NOTE_FIELDS |= {"updated_at"}
TASK_FIELDS = {"id", "client", "title", "due_at", "assignee", "done", "done_at"}
TASK_FIELDS |= {"created_by", "created_at"}


def logged_in(user) -> APIClient:
    api = APIClient()
    api.force_login(user)
    return api


@pytest.fixture
def anna(db):
    """Sales, staff: writes through the API, her own notes and tasks only."""
    return UserFactory(username="anna", is_staff=True, roles=[SALES])


@pytest.fixture
def bert(db):
    """Another Sales user, staff."""
    return UserFactory(username="bert", is_staff=True, roles=[SALES])


@pytest.fixture
def boss(db):
    """A manager, staff: anyone's notes and tasks."""
    return UserFactory(username="boss", is_staff=True, roles=[MANAGERS])


@pytest.fixture
def reader_api(viewer):
    """A script with a Viewers user's token (as in api/tests/conftest.py)."""
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=viewer).key}")
    return api


@pytest.fixture
def anna_api(anna):
    return logged_in(anna)


@pytest.fixture
def boss_api(boss):
    return logged_in(boss)


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def due(days: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=days)


# --- Notes: fields and writes ----------------------------------------------------------------


def test_note_fields(anna_api, anna):
    note = NoteFactory(author=anna, body="Called: **wants** a quote\n- by Friday")
    data = anna_api.get(f"/api/notes/{note.pk}/").json()
    assert set(data) == NOTE_FIELDS
    assert (data["client"], data["author"], data["author_name"]) == (
        note.client_id,
        anna.pk,
        "anna",
    )
    assert data["body"] == "Called: **wants** a quote\n- by Friday"
    assert "<strong>wants</strong>" in data["body_html"]
    assert "<li>by Friday</li>" in data["body_html"]


def test_body_html_escapes_what_was_typed(anna_api):
    note = NoteFactory(body="<script>alert(1)</script> [x](javascript:alert(1))")
    html = anna_api.get(f"/api/notes/{note.pk}/").json()["body_html"]
    assert "<script>" not in html
    assert 'href="javascript:' not in html


def test_a_deleted_authors_note_has_no_author(anna_api):
    note = NoteFactory(author=UserFactory(username="gone"))
    note.author.delete()
    data = anna_api.get(f"/api/notes/{note.pk}/").json()
    assert (data["author"], data["author_name"]) == (None, None)


def test_adding_a_note_makes_the_caller_its_author(anna_api, anna, bert):
    ada = ClientFactory()
    response = anna_api.post(
        "/api/notes/", {"client": ada.pk, "body": "  Wants a quote  ", "author": bert.pk}
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert set(data) == NOTE_FIELDS
    note = Note.objects.get()
    assert (note.client_id, note.author_id, note.body) == (ada.pk, anna.pk, "Wants a quote")
    assert (data["author"], data["author_name"], data["body"]) == (anna.pk, "anna", note.body)


def test_the_author_edits_her_note(anna_api, anna):
    note = NoteFactory(author=anna, body="Old")
    response = anna_api.patch(f"/api/notes/{note.pk}/", {"body": " New "})
    assert response.status_code == 200, response.json()
    note.refresh_from_db()
    assert note.body == "New" == response.json()["body"]
    put = anna_api.put(f"/api/notes/{note.pk}/", {"client": note.client_id, "body": "Newer"})
    assert put.status_code == 200, put.json()
    assert Note.objects.get().body == "Newer"


def test_a_note_cannot_move_to_another_client(anna_api, anna):
    note = NoteFactory(author=anna)
    other = ClientFactory()
    response = anna_api.patch(f"/api/notes/{note.pk}/", {"client": other.pk, "body": "X"})
    assert response.status_code == 400
    assert "client" in response.json()
    assert Note.objects.get().client_id == note.client_id


def test_the_author_deletes_her_note(anna_api, anna):
    note = NoteFactory(author=anna)
    assert anna_api.delete(f"/api/notes/{note.pk}/").status_code == 204
    assert not Note.objects.exists()


def test_a_missing_note_is_a_404(anna_api):
    for url in ("/api/notes/999999/", "/api/notes/abc/"):
        response = anna_api.get(url)
        assert response.status_code == 404
        assert "detail" in response.json()
    assert anna_api.delete("/api/notes/999999/").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "   \n\t "}, "body"),
        ({"body": "x" * (NOTE_MAX_LENGTH + 1)}, "body"),
        ({"body": None}, "body"),
        ({"client": 999999}, "client"),
        ({"client": 2**70}, "client"),
        ({"client": "abc"}, "client"),
        ({"client": None}, "client"),
    ],
)
def test_an_invalid_note_is_a_field_error_and_nothing_is_saved(anna_api, changes, field):
    payload = {"client": ClientFactory().pk, "body": "Fine", **changes}
    response = anna_api.post("/api/notes/", payload)
    assert response.status_code == 400
    assert field in response.json()
    assert not Note.objects.exists()


@pytest.mark.parametrize("missing", ["client", "body"])
def test_a_note_needs_its_client_and_body(anna_api, missing):
    payload = {"client": ClientFactory().pk, "body": "Fine"}
    del payload[missing]
    response = anna_api.post("/api/notes/", payload)
    assert response.status_code == 400
    assert missing in response.json()


def test_a_note_of_exactly_the_longest_length_is_kept(anna_api):
    body = "x" * NOTE_MAX_LENGTH
    response = anna_api.post("/api/notes/", {"client": ClientFactory().pk, "body": body})
    assert response.status_code == 201
    assert Note.objects.get().body == body


def test_an_edit_to_a_blank_body_is_refused(anna_api, anna):
    note = NoteFactory(author=anna, body="Keep")
    assert anna_api.patch(f"/api/notes/{note.pk}/", {"body": "  "}).status_code == 400
    assert Note.objects.get().body == "Keep"


# --- Notes: filters, ordering, pages -------------------------------------------------------


def test_notes_are_listed_newest_first(anna_api):
    old = NoteFactory(created_at=due(-2))
    new = NoteFactory(created_at=due(-1))
    assert [r["id"] for r in rows(anna_api.get("/api/notes/"))] == [new.pk, old.pk]
    oldest_first = rows(anna_api.get("/api/notes/?ordering=created_at"))
    assert [r["id"] for r in oldest_first] == [old.pk, new.pk]


def test_note_filters(anna_api, anna, bert):
    ada, bob = ClientFactory(), ClientFactory()
    mine = NoteFactory(client=ada, author=anna)
    his = NoteFactory(client=ada, author=bert)
    other = NoteFactory(client=bob, author=anna)

    def ids(query):
        return {r["id"] for r in rows(anna_api.get(f"/api/notes/?{query}"))}

    assert ids("") == {mine.pk, his.pk, other.pk}
    assert ids(f"client={ada.pk}") == {mine.pk, his.pk}
    assert ids(f"author={anna.pk}") == {mine.pk, other.pk}
    assert ids(f"client={ada.pk}&author={bert.pk}") == {his.pk}
    assert ids("client=999999") == set()


@pytest.mark.parametrize(
    "query",
    ["client=abc", "client=0", "client=1.5", "author=x", "ordering=body", "page_size=x"],
)
def test_bad_note_filters_are_a_400(anna_api, query):
    response = anna_api.get(f"/api/notes/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_notes_are_paginated_as_the_other_lists(anna_api):
    NoteFactory.create_batch(12)
    body = anna_api.get("/api/notes/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert (body["count"], len(body["results"])) == (12, 10)
    assert len(anna_api.get("/api/notes/?page=2").json()["results"]) == 2
    assert anna_api.get("/api/notes/?page=3").status_code == 404


@pytest.mark.parametrize("count", [2, 20])
def test_the_note_list_runs_a_constant_number_of_queries(reader_api, count):
    for _ in range(count):
        NoteFactory()  # each by another author
    with CaptureQueriesContext(connection) as ctx:
        response = reader_api.get("/api/notes/?page_size=100")
    assert len(rows(response)) == count
    # 1. the token with its user, 2. the user's permissions, 3. its groups' permissions
    # 4. COUNT(*) of notes (the paginator)
    # 5. the page of notes joined with their authors (`author_name`: no query per row)
    assert len(ctx.captured_queries) == 5, [q["sql"] for q in ctx.captured_queries]


# --- Tasks: fields and writes ----------------------------------------------------------------


def test_task_fields(anna_api, anna, bert):
    task = TaskFactory(assignee=bert, created_by=anna, title="Send the quote")
    data = anna_api.get(f"/api/tasks/{task.pk}/").json()
    assert set(data) == TASK_FIELDS
    assert (data["client"], data["assignee"], data["created_by"]) == (
        task.client_id,
        bert.pk,
        anna.pk,
    )
    assert (data["title"], data["done"], data["done_at"]) == ("Send the quote", False, None)
    assert datetime.datetime.fromisoformat(data["due_at"]) == task.due_at


def test_adding_a_task_makes_the_caller_its_creator(anna_api, anna, bert):
    ada = ClientFactory()
    response = anna_api.post(
        "/api/tasks/",
        {
            "client": ada.pk,
            "title": " Call back ",
            "due_at": "2030-06-30T17:00:00+02:00",
            "assignee": bert.pk,
            "created_by": bert.pk,
            "done_at": "2030-01-01T00:00:00Z",
        },
    )
    assert response.status_code == 201, response.json()
    assert set(response.json()) == TASK_FIELDS
    task = Task.objects.get()
    assert (task.client_id, task.title, task.assignee_id) == (ada.pk, "Call back", bert.pk)
    assert (task.created_by_id, task.done, task.done_at) == (anna.pk, False, None)
    assert task.due_at == datetime.datetime(2030, 6, 30, 15, tzinfo=datetime.UTC)
    assert response.json()["created_by"] == anna.pk


def test_a_task_added_done_is_stamped_done(anna_api, anna):
    payload = {"client": ClientFactory().pk, "title": "Called", "due_at": "2030-01-01"}
    response = anna_api.post("/api/tasks/", {**payload, "assignee": anna.pk, "done": True})
    assert response.status_code == 201, response.json()
    task = Task.objects.get()
    assert task.done
    assert task.done_at is not None
    assert response.json()["done_at"] is not None


def test_done_stamps_done_at_and_reopening_clears_it(anna_api, anna):
    task = TaskFactory(assignee=anna)
    done = anna_api.patch(f"/api/tasks/{task.pk}/", {"done": True})
    assert done.status_code == 200, done.json()
    task.refresh_from_db()
    assert task.done
    assert task.done_at is not None
    assert done.json()["done_at"] is not None
    reopened = anna_api.patch(f"/api/tasks/{task.pk}/", {"done": "false"}).json()
    task.refresh_from_db()
    assert (task.done, task.done_at, reopened["done_at"]) == (False, None, None)


def test_a_put_without_done_leaves_it_done(anna_api, anna):
    task = TaskFactory(assignee=anna, done=True)
    payload = {
        "client": task.client_id,
        "title": "Renamed",
        "due_at": "2030-01-01T09:00:00Z",
        "assignee": anna.pk,
    }
    response = anna_api.put(f"/api/tasks/{task.pk}/", payload)
    assert response.status_code == 200, response.json()
    task.refresh_from_db()
    assert (task.title, task.done) == ("Renamed", True)


def test_a_form_encoded_put_without_done_leaves_it_done(anna_api, anna):
    task = TaskFactory(assignee=anna, done=True)
    payload = {
        "client": task.client_id,
        "title": "Renamed",
        "due_at": "2030-01-01T09:00:00Z",
        "assignee": anna.pk,
    }
    response = anna_api.put(f"/api/tasks/{task.pk}/", payload, format="multipart")
    assert response.status_code == 200, response.json()
    assert Task.objects.get().done


def test_a_task_is_reassigned_and_renamed(anna_api, anna, bert):
    task = TaskFactory(assignee=anna, created_by=anna)
    response = anna_api.patch(f"/api/tasks/{task.pk}/", {"assignee": bert.pk, "title": "New"})
    assert response.status_code == 200, response.json()
    task.refresh_from_db()
    assert (task.assignee_id, task.title) == (bert.pk, "New")


def test_a_task_cannot_move_to_another_client(anna_api, anna):
    task = TaskFactory(assignee=anna)
    response = anna_api.patch(f"/api/tasks/{task.pk}/", {"client": ClientFactory().pk})
    assert response.status_code == 400
    assert "client" in response.json()
    assert Task.objects.get().client_id == task.client_id


def test_a_task_is_deleted(anna_api, anna):
    task = TaskFactory(assignee=anna)
    assert anna_api.delete(f"/api/tasks/{task.pk}/").status_code == 204
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"assignee": None}, "assignee"),
        ({"assignee": 999999}, "assignee"),
        ({"assignee": "inactive"}, "assignee"),
        ({"assignee": "abc"}, "assignee"),
        ({"client": 999999}, "client"),
        ({"client": 2**70}, "client"),
        ({"client": None}, "client"),
        ({"due_at": "junk"}, "due_at"),
        ({"due_at": "2030-13-01T10:00:00Z"}, "due_at"),
        ({"due_at": None}, "due_at"),
        ({"due_at": "0001-01-01T00:30:00"}, "due_at"),  # before year 1 in UTC
        ({"due_at": "9999-12-31T23:59:59-05:00"}, "due_at"),  # after year 9999 in UTC
        ({"done": "maybe"}, "done"),
    ],
)
def test_an_invalid_task_is_a_field_error_and_nothing_is_saved(anna_api, anna, changes, field):
    if changes.get("assignee") == "inactive":
        changes = {"assignee": UserFactory(is_active=False, roles=[SALES]).pk}
    payload = {
        "client": ClientFactory().pk,
        "title": "Call",
        "due_at": "2030-01-01T10:00:00Z",
        "assignee": anna.pk,
        **changes,
    }
    response = anna_api.post("/api/tasks/", payload)
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Task.objects.exists()


@pytest.mark.parametrize("missing", ["client", "title", "due_at", "assignee"])
def test_a_task_needs_its_fields(anna_api, anna, missing):
    payload = {
        "client": ClientFactory().pk,
        "title": "Call",
        "due_at": "2030-01-01T10:00:00Z",
        "assignee": anna.pk,
    }
    del payload[missing]
    response = anna_api.post("/api/tasks/", payload)
    assert response.status_code == 400
    assert missing in response.json()


def test_a_task_cannot_be_given_to_an_inactive_user(anna_api, anna):
    task = TaskFactory(assignee=anna)
    gone = UserFactory(is_active=False)
    response = anna_api.patch(f"/api/tasks/{task.pk}/", {"assignee": gone.pk})
    assert response.status_code == 400
    assert "active" in response.json()["assignee"][0]
    assert Task.objects.get().assignee_id == anna.pk


# --- Tasks: filters, ordering, pages -------------------------------------------------------


def test_tasks_are_listed_open_first_each_by_due_time(anna_api):
    later = TaskFactory(due_at=due(2))
    sooner = TaskFactory(due_at=due(1))
    overdue = TaskFactory(due_at=due(-1))
    done = TaskFactory(due_at=due(-5), done=True)
    order = [r["id"] for r in rows(anna_api.get("/api/tasks/"))]
    assert order == [overdue.pk, sooner.pk, later.pk, done.pk]
    latest = [r["id"] for r in rows(anna_api.get("/api/tasks/?ordering=-due_at"))]
    assert latest == [later.pk, sooner.pk, overdue.pk, done.pk]


@pytest.fixture
def agenda(anna, bert):
    """Tasks in Berlin (TIME_ZONE): two of anna's for Ada, one of bert's for Bob, one done."""
    berlin = timezone.get_current_timezone()
    ada, bob = ClientFactory(), ClientFactory()
    at = lambda *args: datetime.datetime(*args, tzinfo=berlin)  # noqa: E731
    return {
        "june29": TaskFactory(client=ada, assignee=anna, due_at=at(2030, 6, 29, 23, 30)),
        "june30": TaskFactory(client=ada, assignee=anna, due_at=at(2030, 6, 30, 9)),
        "july1": TaskFactory(client=bob, assignee=bert, due_at=at(2030, 7, 1, 0, 0)),
        "done": TaskFactory(client=bob, assignee=anna, due_at=at(2030, 6, 1), done=True),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"june29", "june30", "july1", "done"}),
        ("client={ada}", {"june29", "june30"}),
        ("assignee={anna}", {"june29", "june30", "done"}),
        ("assignee={bert}&client={ada}", set()),
        ("done=true", {"done"}),
        ("done=false", {"june29", "june30", "july1"}),
        ("done=0", {"june29", "june30", "july1"}),
        ("done=", {"june29", "june30", "july1", "done"}),
        # A date: before that day starts, in the current time zone (Berlin).
        ("due_before=2030-06-30", {"june29", "done"}),
        ("due_before=2030-07-01", {"june29", "june30", "done"}),
        # A date and time: strictly before it; with an offset, or Z, or none (Berlin).
        ("due_before=2030-06-30T09:00:00", {"june29", "done"}),
        ("due_before=2030-06-30T09:00:01", {"june29", "june30", "done"}),
        ("due_before=2030-06-30T07:00:01Z", {"june29", "june30", "done"}),
        ("due_before=2030-06-30T09:00:01%2B02:00", {"june29", "june30", "done"}),
        ("due_before=2030-06-30T22:00:01Z", {"june29", "june30", "july1", "done"}),
        ("due_before=2030-07-01&done=false&assignee={anna}", {"june29", "june30"}),
    ],
)
def test_task_filters(anna_api, agenda, anna, bert, query, expected):
    ada = agenda["june29"].client_id
    query = query.format(ada=ada, anna=anna.pk, bert=bert.pk)
    names = {task.pk: name for name, task in agenda.items()}
    found = {names[r["id"]] for r in rows(anna_api.get(f"/api/tasks/?{query}"))}
    assert found == expected


@pytest.mark.parametrize(
    "query",
    [
        "done=maybe",
        "done=ture",
        "done=yes",
        "due_before=junk",
        "due_before=2030-13-01",
        "due_before=2030-02-30",
        "due_before=2030-06-30T25:00",
        "due_before=9999-12-31T23:59:59-05:00",  # no such moment in UTC
        "client=abc",
        "client=-1",
        "assignee=1.5",
        "ordering=title",
        "ordering=due_at,created_at,done",
    ],
)
def test_bad_task_filters_are_a_400(anna_api, query):
    response = anna_api.get(f"/api/tasks/?{query}")
    assert response.status_code == 400, response.content
    assert query.split("=")[0] in response.json()


@pytest.mark.parametrize("count", [2, 20])
def test_the_task_list_runs_a_constant_number_of_queries(reader_api, count):
    TaskFactory.create_batch(count)
    with CaptureQueriesContext(connection) as ctx:
        response = reader_api.get("/api/tasks/?page_size=100&done=false")
    assert len(rows(response)) == count
    # 1. the token with its user, 2. the user's permissions, 3. its groups' permissions
    # 4. COUNT(*) of tasks (the paginator)
    # 5. the page of tasks (`client`, `assignee`, `created_by` are id columns: no join)
    assert len(ctx.captured_queries) == 5, [q["sql"] for q in ctx.captured_queries]


# --- Who may: every role against every operation ------------------------------------------

# persona: (is_staff, roles)
PERSONAS = {
    "manager": (True, [MANAGERS]),
    "sales": (True, [SALES]),
    "viewer": (True, [VIEWERS]),
    "nobody": (True, []),
    "sales, not staff": (False, [SALES]),
    "anonymous": None,
}
# (action, method, url, whose): the object is the caller's own or someone else's.
OPERATIONS = [
    ("view", "get", "/api/{kind}s/", "other"),
    ("view", "get", "/api/{kind}s/{pk}/", "other"),
    ("add", "post", "/api/{kind}s/", "other"),
    ("change", "put", "/api/{kind}s/{pk}/", "own"),
    ("change", "patch", "/api/{kind}s/{pk}/", "own"),
    ("delete", "delete", "/api/{kind}s/{pk}/", "own"),
    ("change", "put", "/api/{kind}s/{pk}/", "other"),
    ("change", "patch", "/api/{kind}s/{pk}/", "other"),
    ("delete", "delete", "/api/{kind}s/{pk}/", "other"),
]
SUCCESS = {"view": 200, "add": 201, "change": 200, "delete": 204}


def expected(persona: str, action: str, whose: str) -> int:
    if PERSONAS[persona] is None:
        return 401
    staff, roles = PERSONAS[persona]
    if not roles:
        return 403
    if action == "view":
        return 200
    if not staff or roles == [VIEWERS]:
        return 403
    if roles == [SALES] and action != "add" and whose == "other":
        return 403  # the object rule: Sales change and delete their own only
    return SUCCESS[action]


def snapshot() -> tuple:
    return (
        sorted(Note.objects.values_list("id", "client_id", "author_id", "body")),
        sorted(Task.objects.values_list("id", "client_id", "title", "assignee_id", "done")),
    )


@pytest.mark.parametrize("kind", ["note", "task"])
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("action", "method", "url", "whose"), OPERATIONS)
def test_role_matrix(kind, persona, action, method, url, whose):
    api, me = APIClient(), None
    if PERSONAS[persona] is not None:
        staff, roles = PERSONAS[persona]
        me = UserFactory(is_staff=staff, roles=roles)
        api.force_login(me)
    owner = me if whose == "own" and me is not None else UserFactory(roles=[SALES])
    if kind == "note":
        obj = NoteFactory(author=owner)
        payload = {"client": obj.client_id, "body": "Changed"}
    else:
        obj = TaskFactory(assignee=owner)
        payload = {
            "client": obj.client_id,
            "title": "Changed",
            "due_at": "2030-01-01T10:00:00Z",
            "assignee": owner.pk,
        }
    before = snapshot()
    target = url.format(kind=kind, pk=obj.pk)
    body = payload if method in ("post", "put", "patch") else None
    response = getattr(api, method)(target, body)
    want = expected(persona, action, whose)
    assert response.status_code == want, response.content
    if want in (401, 403):
        assert "detail" in response.json()
        assert snapshot() == before
    if want == 401:
        assert response.headers["WWW-Authenticate"] == "Token"


def test_a_task_is_its_assignees_too(anna, bert):
    # Created by bert, given to anna: either may change or delete it; a third Sales user not.
    task = TaskFactory(created_by=bert, assignee=anna)
    assert logged_in(anna).patch(f"/api/tasks/{task.pk}/", {"done": True}).status_code == 200
    assert logged_in(bert).patch(f"/api/tasks/{task.pk}/", {"title": "B"}).status_code == 200
    carl = UserFactory(username="carl", is_staff=True, roles=[SALES])
    refused = logged_in(carl).patch(f"/api/tasks/{task.pk}/", {"title": "C"})
    assert refused.status_code == 403
    assert "creator" in refused.json()["detail"]
    assert logged_in(carl).delete(f"/api/tasks/{task.pk}/").status_code == 403
    assert logged_in(anna).delete(f"/api/tasks/{task.pk}/").status_code == 204


def test_a_refused_edit_says_why(anna_api, bert):
    note = NoteFactory(author=bert)
    response = anna_api.patch(f"/api/notes/{note.pk}/", {"body": "Mine now"})
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only the note's author or a manager may change or delete it."
    }


def test_a_manager_edits_and_deletes_anyones(boss_api, anna):
    note = NoteFactory(author=anna, body="Hers")
    task = TaskFactory(assignee=anna)
    assert boss_api.patch(f"/api/notes/{note.pk}/", {"body": "Fixed"}).status_code == 200
    assert Note.objects.get().body == "Fixed"
    assert Note.objects.get().author_id == anna.pk  # still hers
    assert boss_api.patch(f"/api/tasks/{task.pk}/", {"done": True}).status_code == 200
    assert boss_api.delete(f"/api/notes/{note.pk}/").status_code == 204
    assert boss_api.delete(f"/api/tasks/{task.pk}/").status_code == 204
    assert not Note.objects.exists()
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    "url", ["/api/notes/", "/api/tasks/", "/api/notes/{n}/", "/api/tasks/{t}/"]
)
def test_public_read_does_not_open_notes_or_tasks(settings, nobody, url):
    settings.API_PUBLIC_READ = True
    url = url.format(n=NoteFactory().pk, t=TaskFactory().pk)
    assert APIClient().get(url).status_code == 401
    assert logged_in(nobody).get(url).status_code == 403


def test_an_inactive_user_cannot_read(anna):
    api = APIClient()
    api.force_authenticate(anna)
    anna.is_active = False
    assert api.get("/api/notes/").status_code == 403


def test_writes_through_the_api_are_in_the_clients_history(anna):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=anna).key}")
    ada = ClientFactory()
    note = api.post("/api/notes/", {"client": ada.pk, "body": "Hello"}).json()
    api.patch(f"/api/notes/{note['id']}/", {"body": "Hello again"})
    api.delete(f"/api/notes/{note['id']}/")
    entries = Entry.objects.filter(
        client_id=ada.pk, content_type__model="note", object_id=note["id"]
    ).order_by("id")
    assert [(e.action, e.via, e.actor_label) for e in entries] == [
        (Entry.Action.CREATE, "api", "API token of anna"),
        (Entry.Action.UPDATE, "api", "API token of anna"),
        (Entry.Action.DELETE, "api", "API token of anna"),
    ]
    assert entries[1].changes == {"body": ["Hello", "Hello again"]}


# --- The schema ----------------------------------------------------------------------------


def test_the_schema_documents_notes_tasks_and_history_as_never_public(settings):
    settings.API_PUBLIC_READ = True
    schema = APIClient().get("/api/schema/?format=json").json()
    ours = {
        path: methods
        for path, methods in schema["paths"].items()
        if path.startswith(("/api/notes/", "/api/tasks/")) or path.endswith("/history/")
    }
    assert set(ours) == {
        "/api/notes/",
        "/api/notes/{id}/",
        "/api/tasks/",
        "/api/tasks/{id}/",
        "/api/clients/{id}/history/",
    }
    for path, methods in ours.items():
        for method, operation in methods.items():
            where = f"{method} {path}"
            assert operation["security"] == [{"tokenAuth": []}, {"cookieAuth": []}], where
            assert "x-never-public" not in operation, where
            assert {"401", "403", "429"} <= set(operation["responses"]), where
    # The clients' reads are still declared public.
    assert {} in schema["paths"]["/api/clients/"]["get"]["security"]
    params = {p["name"] for p in schema["paths"]["/api/tasks/"]["get"]["parameters"]}
    assert {"client", "assignee", "done", "due_before", "ordering", "page"} <= params
    params = {p["name"] for p in schema["paths"]["/api/notes/"]["get"]["parameters"]}
    assert {"client", "author", "ordering", "page"} <= params
    entry = schema["components"]["schemas"]["HistoryEntry"]["properties"]
    assert {"at", "actor", "via", "action", "changes", "object", "data"} == set(entry)
