import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend as BaseDjangoFilterBackend
from django_filters.widgets import BooleanWidget
from rest_framework import filters
from rest_framework.exceptions import ValidationError as APIValidationError

from clients.models import Client, Order
from clients.selectors import ClientListSpec


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
        raise ValidationError(_("Enter true or false."), code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class IdFilter(django_filters.NumberFilter):
    """A whole, positive id; `?client=abc` or `?client=1.5` is a 400."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        # The largest id a database stores: above, SQLite raises OverflowError (a 500).
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class ClientFilter(django_filters.FilterSet):
    vip = StrictBooleanFilter()
    active = StrictBooleanFilter(
        method="filter_active",
        label=gettext_lazy("Has at least one order that is not DONE (false: has none)."),
    )
    search = django_filters.CharFilter(
        method="filter_search",
        label=gettext_lazy("Name or email contains this, case-insensitively."),
    )

    class Meta:
        model = Client
        fields = ["vip", "active", "search"]

    def filter_active(self, queryset, name, value):
        # The stored count of open orders, as clients.selectors.ClientListSpec reads it.
        if value is None:
            return queryset
        return queryset.active() if value else queryset.filter(open_orders_count=0)

    def filter_search(self, queryset, name, value):
        # The same matching as the web list's ?q=.
        return queryset.search(value)


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Order.Status.choices)
    client = IdFilter(field_name="client_id", label=gettext_lazy("Client id"))

    class Meta:
        model = Order
        fields = ["status", "client"]


# At most this many `?ordering=` terms (the id is added after them). Each further term makes
# the sort wider and the deep pages' seek condition deeper (core.pagination.at_or_after, which
# seeks on at most MAX_SEEK_FIELDS = this + the id; api/tests/test_ordering.py holds them
# together); three cover "by status, then amount, newest first".
MAX_ORDERING_TERMS = 3


class StrictOrderingFilter(filters.OrderingFilter):
    """`?ordering=` on the view's `ordering_fields` only (each led by an index, api/checks.py),
    at most MAX_ORDERING_TERMS terms, given once; anything else is a 400 (DRF would silently
    ignore it, or take the last of repeated parameters, and the caller would believe the
    results sorted). A field named twice counts once, its first mention winning
    (`name,-name,email` sorts by name, then email). The id is appended as a tie-breaker, in
    the direction of the last term (the direction its (field, id) index is read in), so that
    pages never overlap or skip rows."""

    def get_valid_fields(self, queryset, view, context=None):
        # Only an explicit list: DRF's fallbacks (every serializer field, or "__all__" for
        # every model field) would sort on columns no index serves.
        fields = getattr(view, "ordering_fields", None)
        if fields is None or fields == "__all__":
            return []
        return super().get_valid_fields(queryset, view, context)

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = {item[0] for item in self.get_valid_fields(queryset, view, {"request": request})}
        if not valid:
            raise APIValidationError({self.ordering_param: [_("This list has a fixed order.")]})
        invalid = [term for term in fields if term.removeprefix("-") not in valid]
        if invalid:
            shown = ", ".join(invalid[:5]) + (", …" if len(invalid) > 5 else "")
            raise APIValidationError(
                {
                    self.ordering_param: [
                        _("Cannot order by %(shown)s; choose from %(valid)s (prefix - to reverse).")
                        % {"shown": shown, "valid": ", ".join(sorted(valid))}
                    ]
                }
            )
        # The first mention of a field wins; a later one changes nothing anyway, since the rows
        # it would order already tie on that field.
        kept = {}
        for term in fields:
            kept.setdefault(term.removeprefix("-"), term)
        return list(kept.values())

    def get_ordering(self, request, queryset, view):
        if len(request.query_params.getlist(self.ordering_param)) > 1:
            raise APIValidationError(
                {
                    self.ordering_param: [
                        _("Give %(param)s once, its fields comma-separated.")
                        % {"param": self.ordering_param}
                    ]
                }
            )
        params = request.query_params.get(self.ordering_param)
        # Counted before anything else, so a long list costs no more than a short one; the
        # terms as written, repeats included.
        if params and params.count(",") >= MAX_ORDERING_TERMS:
            raise APIValidationError(
                {
                    self.ordering_param: [
                        _("Order by at most %(limit)d fields, comma-separated.")
                        % {"limit": MAX_ORDERING_TERMS}
                    ]
                }
            )
        ordering = list(super().get_ordering(request, queryset, view) or ())
        if ordering and not {"id", "-id", "pk", "-pk"} & set(ordering):
            ordering.append("-id" if ordering[-1].startswith("-") else "id")
        return ordering

    def get_schema_operation_parameters(self, view):
        fields = getattr(view, "ordering_fields", None)
        if fields is None or fields == "__all__":
            return []
        fields = [item if isinstance(item, str) else item[0] for item in fields]
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": f"Comma-separated fields to sort by, at most "
                f"{MAX_ORDERING_TERMS}, given once; prefix - to reverse. A field named twice "
                "counts once, its first mention winning (`name,-name` is `name`). Ties are "
                "broken by id. Any other field, or more terms, is a 400.",
                "schema": {
                    "type": "array",
                    "maxItems": MAX_ORDERING_TERMS,
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


def client_list_spec(request, view) -> ClientListSpec:
    """The API client list's parameters as the web list's ClientListSpec, validated by the
    same filterset and ordering filter as every other list (a 400 on a bad boolean or
    ordering). Without any filter parameter the form is skipped, as DjangoFilterBackend does
    here."""
    values = {"search": "", "vip": None, "active": None}
    if _has_filter_parameters(ClientFilter, request.query_params):
        filterset = ClientFilter(
            data=request.query_params, queryset=view.get_queryset(), request=request
        )
        if not filterset.is_valid():
            raise APIValidationError(filterset.errors)
        values.update(filterset.form.cleaned_data)
    ordering = StrictOrderingFilter().get_ordering(request, view.get_queryset(), view)
    return ClientListSpec.build(
        q=values["search"] or "",
        sort=ordering,
        vip=values["vip"],
        active=values["active"],
    )
