"""Deep pages seek from cached anchors (core.pagination) and show exactly what OFFSET shows.

ANCHOR_STRIDE is 1,000 in production; here it is 4 so that a few dozen rows span many blocks.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from clients.models import Client, Order
from clients.tests.factories import ClientFactory, UserFactory
from core import pagination
from core.pagination import AnchoredPaginator, at_or_after, seek_fields

pytestmark = pytest.mark.django_db
User = get_user_model()

STRIDE = 4


@pytest.fixture(autouse=True)
def small_stride(monkeypatch):
    monkeypatch.setattr(pagination, "ANCHOR_STRIDE", STRIDE)


@pytest.fixture
def clients():
    # Ties on created_at in threes, so the seek must break them by id.
    start = datetime(2026, 1, 1, tzinfo=UTC)
    made = ClientFactory.create_batch(23)
    for i, client in enumerate(made):
        Client.objects.filter(pk=client.pk).update(created_at=start + timedelta(days=i // 3))
    return made


def pages(paginator) -> list[list[int]]:
    return [[c.pk for c in paginator.page(n).object_list] for n in paginator.page_range]


def anchored(queryset, per_page, key="test", **kwargs) -> AnchoredPaginator:
    return AnchoredPaginator(queryset, per_page, anchor_key=key, **kwargs)


@pytest.mark.parametrize("per_page", [1, 3, 4, 5, 10])
@pytest.mark.parametrize(
    "ordering", [("-created_at", "-id"), ("created_at", "id"), ("name", "pk"), ("-vip", "id")]
)
def test_every_page_is_the_page_offset_gives(clients, per_page, ordering):
    queryset = Client.objects.order_by(*ordering)
    expected = pages(Paginator(queryset, per_page))
    assert pages(anchored(queryset, per_page)) == expected
    # A second pass reads the anchors from the cache: still the same pages.
    assert pages(anchored(queryset, per_page)) == expected


def test_orphans_and_a_filter_are_kept(clients):
    queryset = Client.objects.filter(pk__in=[c.pk for c in clients[::2]])
    expected = pages(Paginator(queryset, 3, orphans=2))
    assert pages(anchored(queryset, 3, orphans=2)) == expected


def test_a_deep_page_seeks_from_its_anchor_instead_of_walking_the_offset(clients):
    queryset = Client.objects.all()
    anchored(queryset, 2).page(10)  # computes the anchor of rows 16..19
    with CaptureQueriesContext(connection) as ctx:
        rows = list(anchored(queryset, 2).page(10).object_list)
    assert len(ctx.captured_queries) == 2  # COUNT(*) and the page: the anchor was cached
    sql = ctx.captured_queries[-1]["sql"]
    assert "OFFSET 2" in sql  # row 18 is 2 past the anchor at row 16
    assert [c.pk for c in rows] == [c.pk for c in queryset[18:20]]


def test_the_first_block_and_a_paginator_without_a_key_use_offset(clients):
    queryset = Client.objects.all()
    with CaptureQueriesContext(connection) as ctx:
        list(anchored(queryset, 2).page(2).object_list)
        list(Paginator(queryset, 2).page(10).object_list)
    assert all('created_at" <=' not in q["sql"] for q in ctx.captured_queries)


def test_anchors_live_under_their_key(clients):
    queryset = Client.objects.all()
    anchored(queryset, 2, key="v1").page(10)
    # The same key trusts its anchor: a row added since is not seen (the caller's key must
    # change with the rows, as clients.cache's versions do)...
    newest = ClientFactory()
    Client.objects.filter(pk=newest.pk).update(created_at=datetime(2030, 1, 1, tzinfo=UTC))
    stale = [c.pk for c in anchored(queryset, 2, key="v1").page(10).object_list]
    assert stale == [c.pk for c in queryset[19:21]]
    # ... and a new key finds the new positions.
    fresh = [c.pk for c in anchored(queryset, 2, key="v2").page(10).object_list]
    assert fresh == [c.pk for c in queryset[18:20]]


@pytest.mark.parametrize(
    "ordering",
    [
        ("-created_at",),  # ties: not a total order
        ("name",),
        ("computed_orders_count", "id"),  # an annotation: no index to seek
        ("client__name", "id"),
        ("?",),
    ],
)
def test_orderings_that_cannot_seek_fall_back_to_offset(ordering):
    queryset = Client.objects.all()
    if ordering[0] == "computed_orders_count":
        queryset = queryset.with_computed_totals()
    elif ordering[0] == "client__name":
        queryset = Order.objects.all()
    assert seek_fields(queryset.order_by(*ordering)) is None


def test_default_ordering_and_pk_alias():
    assert seek_fields(Client.objects.all()) == [("created_at", True), ("id", True)]
    assert seek_fields(Client.objects.order_by("name", "-pk")) == [("name", False), ("id", True)]
    assert seek_fields(Client.objects.order_by()) is None


def test_a_null_at_an_anchor_falls_back_to_offset():
    # last_login is NULL for users who never logged in: no comparison can seek past a NULL.
    users = UserFactory.create_batch(12)
    for user in users[::3]:
        User.objects.filter(pk=user.pk).update(last_login=datetime(2026, 1, 1, tzinfo=UTC))
    queryset = User.objects.order_by("last_login", "id")
    assert pages(anchored(queryset, 3)) == pages(Paginator(queryset, 3))


def test_the_seek_condition_bounds_the_first_field_for_the_index():
    condition = at_or_after([("created_at", True), ("id", True)], ("T", 7))
    assert condition == Q(created_at__lte="T") & (
        Q(created_at__lt="T") | (Q(created_at="T") & Q(id__lte=7))
    )


def test_four_fields_seek_and_a_fifth_falls_back_to_offset(clients):
    # Four: the API's three `?ordering=` terms and the id (api/filters.py).
    for client in clients[::4]:
        Client.objects.filter(pk=client.pk).update(vip=True, name="Same")
    ordering = ("-vip", "name", "created_at", "id")
    queryset = Client.objects.order_by(*ordering)
    assert len(seek_fields(queryset)) == pagination.MAX_SEEK_FIELDS == 4
    expected = pages(Paginator(queryset, 3))
    assert pages(anchored(queryset, 3)) == expected
    with CaptureQueriesContext(connection) as ctx:
        assert pages(anchored(queryset, 3)) == expected  # the anchors from the cache
    deep = [q["sql"] for q in ctx.captured_queries if '"vip" <=' in q["sql"]]
    assert len(deep) == len(expected) - 2  # pages 3.. start past the first block (rows 4..)
    assert seek_fields(Client.objects.order_by("-vip", "name", "email", "created_at", "id")) is None
