"""api.filters.DjangoFilterBackend: no filter form for a request that filters nothing, the
same results and errors as django-filter's own backend otherwise."""

from types import SimpleNamespace

import django_filters
import pytest
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from api.filters import ClientFilter, DjangoFilterBackend
from clients.models import Client
from clients.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def filtered(query: dict, filterset_class=ClientFilter, queryset=None):
    request = Request(APIRequestFactory().get("/", query))
    view = SimpleNamespace(filterset_class=filterset_class)
    queryset = Client.objects.all() if queryset is None else queryset
    return DjangoFilterBackend().filter_queryset(request, queryset, view)


def test_without_filter_parameters_no_filter_form_is_built(monkeypatch):
    def no_form(*args, **kwargs):
        raise AssertionError("the filter form was built")

    monkeypatch.setattr(ClientFilter, "form", property(no_form))
    queryset = Client.objects.all()
    query = {"page": "2", "page_size": "5", "ordering": "name"}
    assert filtered(query, queryset=queryset) is queryset


def test_a_filter_parameter_still_filters():
    ClientFactory(vip=True, name="Vip")
    ClientFactory(vip=False, name="Plain")
    assert [c.name for c in filtered({"vip": "true"})] == ["Vip"]
    assert [c.name for c in filtered({"search": "pla"})] == ["Plain"]


@pytest.mark.parametrize(
    ("url", "status"),
    [("/api/clients/?vip=maybe", 400), ("/api/clients/?active=x", 400), ("/api/clients/", 200)],
)
def test_bad_filter_values_are_still_a_400(reader_api, url, status):
    assert reader_api.get(url).status_code == status


class RequiredFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(required=True)

    class Meta:
        model = Client
        fields = ["name"]


def test_a_filterset_with_a_required_filter_still_validates_an_empty_query():
    with pytest.raises(ValidationError):
        filtered({}, RequiredFilter)
