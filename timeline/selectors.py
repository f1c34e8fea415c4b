"""Reads: a client's timeline, the task list, the note search."""

import datetime
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import CharField, F, Q, QuerySet, Value
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from clients.models import Order
from history.models import Entry
from history.selectors import client_history
from timeline.models import Note, Task

PER_PAGE = 25
# The timeline's kinds, in the tie-break order of items at the same instant (an import's
# orders share one). "change" is the history (history/).
KINDS = ("change", "note", "order", "task")
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
MICROSECOND = datetime.timedelta(microseconds=1)


@dataclass(frozen=True)
class Cursor:
    """Where a timeline page ends: the next ("show older") page starts after it."""

    at: datetime.datetime
    kind: str
    pk: int

    def __str__(self) -> str:
        return f"{(self.at - EPOCH) // MICROSECOND}_{self.kind}_{self.pk}"

    @classmethod
    def parse(cls, value: str | None) -> "Cursor | None":
        """The cursor in `value` (a `?before=`), None when it is missing or malformed."""
        try:
            stamp, kind, pk = (value or "").split("_")
            at = EPOCH + int(stamp) * MICROSECOND
            if kind not in KINDS:
                return None
            return cls(at=at, kind=kind, pk=int(pk))
        except (ValueError, OverflowError, OSError):
            return None


@dataclass(frozen=True)
class Item:
    kind: str
    at: datetime.datetime
    obj: object

    @property
    def cursor(self) -> Cursor:
        return Cursor(at=self.at, kind=self.kind, pk=self.obj.pk)


@dataclass(frozen=True)
class TimelinePage:
    items: list[Item]
    older: Cursor | None  # the next page's `before`, None on the last page


def _changes(client_id: int, user) -> QuerySet:
    # The history's own rule for what `user` may read (history/selectors.py), less the
    # "created" entries of notes, tasks and orders: each appears as itself.
    shown_as_items = ContentType.objects.get_for_models(Note, Task, Order).values()
    changes = client_history(client_id=client_id, user=user).exclude(
        action=Entry.Action.CREATE, content_type__in=shown_as_items
    )
    return changes.annotate(at=F("timestamp"))


def _branches(client_id: int, user) -> dict[str, QuerySet]:
    return {
        "change": _changes(client_id, user),
        "note": Note.objects.filter(client_id=client_id).annotate(at=F("created_at")),
        "order": Order.objects.filter(client_id=client_id).annotate(at=F("created_at")),
        "task": Task.objects.filter(client_id=client_id).annotate(at=F("created_at")),
    }


def _older_than(kind: str, cursor: Cursor) -> Q:
    # The page order is (at, kind, pk), all descending; a branch's kind is a constant.
    if kind < cursor.kind:
        return Q(at__lte=cursor.at)
    if kind > cursor.kind:
        return Q(at__lt=cursor.at)
    # The bound on `at` first, so the index scan starts at the cursor rather than filtering
    # every newer row (page 100 of a long history read 2,480 index entries, now 25).
    return Q(at__lte=cursor.at) & (Q(at__lt=cursor.at) | Q(pk__lt=cursor.pk))


def timeline_page(
    *,
    client_id: int,
    kinds=KINDS,
    user=None,
    before: Cursor | None = None,
    per_page: int = PER_PAGE,
) -> TimelinePage:
    """One page of the client's timeline, newest first: its notes, tasks, orders and history,
    of the `kinds` asked for; with `user`, the history leaves out what they may not view.

    One query finds the page (a UNION ALL of each kind's newest `per_page + 1` rows past the
    cursor, each read backwards through its (client, created, id) index), then one query per
    kind on the page fetches those rows by id: at most five, whatever the history's size.
    """
    parts = []
    for kind, queryset in _branches(client_id, user).items():
        if kind not in kinds:
            continue
        if before is not None:
            queryset = queryset.filter(_older_than(kind, before))
        parts.append(
            queryset.annotate(kind=Value(kind, output_field=CharField()), item_id=F("pk"))
            .order_by("-at", "-pk")
            .values("at", "kind", "item_id")[: per_page + 1]
        )
    rows = _union(parts, limit=per_page + 1)
    more = len(rows) > per_page
    rows = rows[:per_page]
    objects = _fetch(rows)
    items = [
        Item(kind=kind, at=timezone.localtime(at), obj=objects[kind][pk])
        for at, kind, pk in rows
        if pk in objects[kind]
    ]
    return TimelinePage(items=items, older=items[-1].cursor if more and items else None)


def _union(parts: list[QuerySet], *, limit: int) -> list[tuple]:
    """UNION ALL of the parts, each with its own ORDER BY and LIMIT, as SQL: Django composes a
    sliced union on PostgreSQL but not on SQLite, which allows it only in a subquery."""
    if not parts:
        return []
    sqls, params = [], []
    for number, part in enumerate(parts):
        sql, part_params = part.query.sql_with_params()
        sqls.append(f'SELECT "at", "kind", "item_id" FROM ({sql}) AS part{number}')
        params.extend(part_params)
    sql = " UNION ALL ".join(sqls) + " ORDER BY 1 DESC, 2 DESC, 3 DESC LIMIT %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        rows = cursor.fetchall()
    return [(_aware(at), kind, pk) for at, kind, pk in rows]


def _aware(value) -> datetime.datetime:
    # SQLite hands a subquery's datetimes back as text or naive (UTC) values.
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=datetime.UTC)


def _fetch(rows) -> dict[str, dict[int, object]]:
    wanted: dict[str, list[int]] = {kind: [] for kind in KINDS}
    for _at, kind, pk in rows:
        wanted[kind].append(pk)
    querysets = {
        "change": Entry.objects.select_related("content_type"),
        "note": Note.objects.select_related("author"),
        "order": Order.objects.all(),
        "task": Task.objects.select_related("assignee"),
    }
    return {kind: querysets[kind].in_bulk(pks) if pks else {} for kind, pks in wanted.items()}


# --- Tasks -----------------------------------------------------------------------------------
def tasks_for(*, assignee_id: int | None, done: bool | None) -> QuerySet:
    """/tasks/: overdue first, then today's, then later ones (each by due time); done ones last,
    most recently due first. `assignee_id` None means everyone's."""
    tasks = Task.objects.select_related("client", "assignee")
    if assignee_id is not None:
        tasks = tasks.filter(assignee_id=assignee_id)
    if done is not None:
        tasks = tasks.filter(done=done)
    return tasks.order_by("done", "due_at", "id")


def notes_search(*, q: str) -> QuerySet:
    """/notes/?q=: notes whose text contains `q` (any case), newest first."""
    notes = Note.objects.select_related("client", "author").order_by("-created_at", "-id")
    q = (q or "").strip()
    if not q:
        return notes
    if "\x00" in q:
        return notes.none()
    return notes.filter(body__icontains=q)
