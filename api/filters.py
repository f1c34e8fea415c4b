import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.rest_framework import DjangoFilterBackend as BaseDjangoFilterBackend
from django_filters.widgets import BooleanWidget
from rest_framework import filters
from rest_framework.exceptions import ValidationError as APIValidationError

from clients.models import Client, Order


class StrictBooleanWidget(BooleanWidget):
    """Passes an unknown value on to the field (BooleanWidget turns it into None)."""

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        raw = data.get(name)
        return raw if value is None and raw not in (None, "") else value


class StrictBooleanField(forms.NullBooleanField):
    """true/false/1/0 or nothing. django-filter reads anything else as "no filter", so
    `?vip=maybe` would quietly return everyone; here it is a 400."""

    widget = StrictBooleanWidget

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in (True, False):
            return value
        raise ValidationError("Enter true or false.", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class IdFilter(django_filters.NumberFilter):
    """A whole, positive id; `?client=abc` or `?client=1.5` is a 400."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        super().__init__(*args, **kwargs)


class ClientFilter(django_filters.FilterSet):
    vip = StrictBooleanFilter()
    active = StrictBooleanFilter(
        method="filter_active",
        label="Has at least one order that is not DONE (false: has none).",
    )
    search = django_filters.CharFilter(
        method="filter_search", label="Name or email contains this, case-insensitively."
    )

    class Meta:
        model = Client
        fields = ["vip", "active", "search"]

    def filter_active(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.active() if value else queryset.exclude(pk__in=Client.objects.active())

    def filter_search(self, queryset, name, value):
        # The same matching as the web list's ?q=.
        return queryset.search(value)


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Order.Status.choices)
    client = IdFilter(field_name="client_id", label="Client id")

    class Meta:
        model = Order
        fields = ["status", "client"]


class StrictOrderingFilter(filters.OrderingFilter):
    """`?ordering=` on the view's `ordering_fields` only; anything else is a 400 (DRF would
    silently ignore it and the caller would believe the results sorted). The id is appended
    as a tie-breaker so that pages never overlap or skip rows."""

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = {item[0] for item in self.get_valid_fields(queryset, view, {"request": request})}
        invalid = [term for term in fields if term.removeprefix("-") not in valid]
        if invalid:
            raise APIValidationError(
                {
                    self.ordering_param: [
                        f"Cannot order by {', '.join(invalid)}; "
                        f"choose from {', '.join(sorted(valid))} (prefix - to reverse)."
                    ]
                }
            )
        return fields

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or ())
        if ordering and not {"id", "-id", "pk", "-pk"} & set(ordering):
            ordering.append("-id" if ordering[0].startswith("-") else "id")
        return ordering

    def get_schema_operation_parameters(self, view):
        fields = [item if isinstance(item, str) else item[0] for item in view.ordering_fields]
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Comma-separated fields to sort by; prefix - to reverse. "
                "Any other field is a 400.",
                "schema": {
                    "type": "array",
                    "items": {
                        "type": "string",
                        "enum": [term for f in fields for term in (f, f"-{f}")],
                    },
                },
                "style": "form",
                "explode": False,
            }
        ]


class DjangoFilterBackend(BaseDjangoFilterBackend):
    """django-filter's backend, minus the form when the request filters nothing.

    Building and validating the filter form (a deep copy of every field, then cleaning each)
    was a good part of an API list request's CPU (docs/performance.md#api-json), and a list
    without filter parameters is the most common request. With none of the filterset's
    parameters in the query string every filter gets an empty value, which leaves the queryset
    as it is, so skipping the form changes nothing; a filterset with a required filter still
    goes through the form (and its 400).
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not _has_filter_parameters(
            filterset_class, request.query_params
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)


def _has_filter_parameters(filterset_class, params) -> bool:
    filters = filterset_class.base_filters
    if any(f.extra.get("required") for f in filters.values()):
        return True
    # A prefix, not the name: range and multi-value widgets add suffixes (`created_after`).
    return any(key.startswith(name) for key in params for name in filters)
