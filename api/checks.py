import os

from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.filters import OrderingFilter


@register()
def replaced_settings(app_configs, **kwargs):
    """An environment written for an older release still sets API_READ_REQUIRES_LOGIN, which
    nothing reads any more: say so at start rather than let its owner believe it still acts."""
    if "API_READ_REQUIRES_LOGIN" not in os.environ:
        return []
    return [
        Warning(
            "API_READ_REQUIRES_LOGIN is no longer read: API reads now always need a user with "
            "the view permission, unless API_PUBLIC_READ=1 opts into anonymous reads.",
            hint="Remove API_READ_REQUIRES_LOGIN from the environment.",
            id="api.W001",
        )
    ]


@register(Tags.urls, Tags.models)
def ordering_fields_have_indexes(app_configs, **kwargs):
    """Every name in an API view's `ordering_fields` is a field that leads an index: a sort on
    any other column reads and sorts the whole table on every page (and the deep pages' seek,
    core.pagination, has no index range to start from)."""
    return ordering_errors(api_views())


def api_views() -> list[type]:
    """The view classes of the URLconf that sort with an ordering filter."""
    found = []
    for callback in _callbacks(get_resolver().url_patterns):
        view = getattr(callback, "cls", None)
        backends = getattr(view, "filter_backends", None) or ()
        if any(issubclass(b, OrderingFilter) for b in backends) and view not in found:
            found.append(view)
    return found


def _callbacks(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _callbacks(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            yield pattern.callback


def ordering_errors(views) -> list[Error]:
    errors = []
    for view in views:
        name = f"{view.__module__}.{view.__qualname__}"
        fields = getattr(view, "ordering_fields", None)
        queryset = getattr(view, "queryset", None)
        if fields in (None, "__all__") or queryset is None:
            # StrictOrderingFilter refuses any ?ordering= on such a view: nothing to check.
            continue
        model = queryset.model
        indexed = indexed_fields(model)
        for field in fields:
            field = field if isinstance(field, str) else field[0]
            if field in indexed:
                continue
            errors.append(
                Error(
                    f"{name}.ordering_fields names {field!r}, which no index of "
                    f"{model._meta.label} starts with.",
                    hint="Add an index whose first field it is (followed by the id, as in "
                    "clients/models.py), or drop it from ordering_fields.",
                    obj=view,
                    id="api.E001",
                )
            )
    return errors


def indexed_fields(model) -> set[str]:
    """The names of `model`'s fields that lead an index on the whole table: the primary key,
    unique and db_index fields (a foreign key's too), and the first field of each index or
    unique constraint without a condition (a partial index serves only its filter)."""
    opts = model._meta
    names = {f.name for f in opts.concrete_fields if f.primary_key or f.unique or f.db_index}
    leading = [index.fields[0] for index in opts.indexes if index.fields and not index.condition]
    leading += [
        constraint.fields[0]
        for constraint in opts.constraints
        if isinstance(constraint, models.UniqueConstraint)
        and constraint.fields
        and not constraint.condition
    ]
    leading += [fields[0] for fields in opts.unique_together]
    for field in leading:
        try:
            names.add(opts.get_field(field.removeprefix("-")).name)
        except FieldDoesNotExist:
            continue
    return names
