"""`?ordering=`: at most MAX_ORDERING_TERMS terms, a field named twice counted once (its first
mention wins), only fields an index leads (the api.E001 system check), and the deep pages of
the longest ordering still seek from their anchor (core.pagination)."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory

from api import checks
from api.checks import api_views, indexed_fields, ordering_errors
from api.filters import MAX_ORDERING_TERMS
from api.serializers import ClientSerializer
from clients.models import Client, Order
from clients.tests.factories import ClientFactory, OrderFactory
from core import pagination
from core.pagination import MAX_SEEK_FIELDS, seek_fields

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def namesakes(db):
    # Names in pairs, so that the second term and the id decide within each pair.
    return [ClientFactory(name=f"N{i // 2}", email=f"c{(7 * i) % 10}@mail.test") for i in range(10)]


# --- De-duplication: the first mention of a field wins -------------------------------------


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name,-name", ("name", "id")),
        ("name,name", ("name", "id")),
        ("-name,name,email", ("-name", "email", "id")),
        ("-name,email,-email", ("-name", "email", "id")),
        ("email,-email,-email", ("email", "id")),
    ],
)
def test_a_field_named_twice_counts_once_its_first_mention_winning(
    reader_api, namesakes, ordering, expected
):
    listed = ids(reader_api.get(f"/api/clients/?ordering={ordering}&page_size=100"))
    assert listed == [c.pk for c in Client.objects.order_by(*expected)]


def test_orders_take_three_terms(reader_api):
    for i in range(12):
        OrderFactory(status=("NEW", "DONE")[i % 2], amount=Decimal(i % 3))
    url = "/api/orders/?ordering=status,-amount,created_at&page_size=100"
    expected = Order.objects.order_by("status", "-amount", "created_at", "id")
    assert ids(reader_api.get(url)) == [o.pk for o in expected]


def test_a_repeated_ordering_parameter_is_a_400_not_the_last_one(reader_api):
    response = reader_api.get("/api/clients/?ordering=name&ordering=-email")
    assert response.status_code == 400
    assert response.json() == {"ordering": ["Give ordering once, its fields comma-separated."]}


def test_the_limit_counts_the_terms_as_written_repeats_included(reader_api):
    response = reader_api.get("/api/clients/?ordering=name,-name,email,created_at")
    assert response.status_code == 400
    assert response.json() == {"ordering": ["Order by at most 3 fields, comma-separated."]}


@pytest.mark.parametrize("ordering_fields", [None, "__all__"])
def test_a_view_without_an_explicit_list_takes_no_ordering(ordering_fields):
    # DRF would fall back to every serializer (or model) field: unindexed sorts.
    class Unsorted(generics.ListAPIView):
        queryset = Client.objects.order_by("-created_at", "-id")
        serializer_class = ClientSerializer
        authentication_classes = []
        permission_classes = [AllowAny]

    Unsorted.ordering_fields = ordering_fields
    view = Unsorted.as_view()
    factory = APIRequestFactory()
    response = view(factory.get("/", {"ordering": "phone"}))
    assert response.status_code == 400
    assert response.data == {"ordering": ["This list has a fixed order."]}
    assert view(factory.get("/")).status_code == 200
    assert ordering_errors([Unsorted]) == []  # nothing to check: no ordering is accepted


# --- Only fields an index leads --------------------------------------------------------------


def test_every_api_ordering_field_leads_an_index():
    assert {v.__name__ for v in api_views()} >= {"ClientViewSet", "OrderViewSet"}
    assert ordering_errors(api_views()) == []


@pytest.mark.parametrize(
    ("field", "why"),
    [
        ("phone", "no index"),
        ("open_orders_count", "only partial indexes' conditions use it"),
        ("orders__amount", "not a field of the model"),
    ],
)
def test_an_unindexed_ordering_field_fails_the_check(field, why):
    class Sorted(generics.ListAPIView):
        queryset = Client.objects.all()
        serializer_class = ClientSerializer
        ordering_fields = ["name", field]

    errors = ordering_errors([Sorted])
    assert [(e.id, e.obj) for e in errors] == [("api.E001", Sorted)], why
    assert f"names {field!r}, which no index of clients.Client starts with" in errors[0].msg


def test_the_check_is_registered_and_passes():
    from django.core import checks as django_checks

    registered = django_checks.registry.registry.get_checks()
    assert checks.ordering_fields_have_indexes in registered
    assert checks.ordering_fields_have_indexes(None) == []


def test_what_leads_an_index():
    client = indexed_fields(Client)
    # unique (email), db_index (created_at, vip), Meta.indexes' first fields, the pk...
    assert {"id", "email", "created_at", "vip", "name", "orders_count", "orders_total"} <= client
    # ... but not a field that only a partial index's condition or no index names.
    assert not {"phone", "open_orders_count"} & client
    # `client` has db_index=False but leads order_client_newest_first; `title` has only an
    # expression index (upper(title) trigrams), which no ORDER BY title uses.
    order = indexed_fields(Order)
    assert {"id", "client", "created_at", "amount", "status"} <= order
    assert "title" not in order


def test_the_tasks_ordering_fields_have_their_indexes():
    assert {"due_at", "created_at"} <= indexed_fields(apps.get_model("timeline.Task"))


# --- The seek serves the longest ordering ----------------------------------------------------


def test_the_seek_covers_the_longest_ordering_and_its_tie_breaker():
    assert MAX_ORDERING_TERMS + 1 <= MAX_SEEK_FIELDS
    longest = Order.objects.order_by("status", "-amount", "created_at", "id")
    assert seek_fields(longest) == [
        ("status", False),
        ("amount", True),
        ("created_at", False),
        ("id", False),
    ]


def test_a_deep_page_of_three_terms_seeks_from_its_anchor(reader_api, monkeypatch):
    monkeypatch.setattr(pagination, "ANCHOR_STRIDE", 4)
    for i in range(14):
        OrderFactory(status=("NEW", "DONE")[i % 2], amount=Decimal(i % 3))
    url = "/api/orders/?ordering=status,-amount,created_at&page_size=3&page=4"
    expected = Order.objects.order_by("status", "-amount", "created_at", "id")[9:12]
    assert ids(reader_api.get(url)) == [o.pk for o in expected]  # finds the anchor of row 8
    with CaptureQueriesContext(connection) as ctx:
        assert ids(reader_api.get(url)) == [o.pk for o in expected]
    # The token with its user, then the page: the count and the anchor come from the cache.
    assert len(ctx.captured_queries) == 2, [q["sql"] for q in ctx.captured_queries]
    sql = ctx.captured_queries[-1]["sql"]
    # Rows from the anchor at row 8 on, one past it: the status bound is the index range.
    assert '"clients_order"."status" >=' in sql
    assert "LIMIT 3 OFFSET 1" in sql


def test_the_schema_states_the_limit_and_the_first_mention_rule(api):
    schema = api.get("/api/schema/?format=json").json()
    params = {p["name"]: p for p in schema["paths"]["/api/orders/"]["get"]["parameters"]}
    assert params["ordering"]["schema"]["maxItems"] == MAX_ORDERING_TERMS == 3
    assert "its first mention winning" in params["ordering"]["description"]
