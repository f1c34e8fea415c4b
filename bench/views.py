"""Bench-only views: the ceiling that `make bench` compares the real pages with.

Mounted under /bench/ only when BENCH_VIEWS=1 (mini_crm/urls.py), which is never set in
production; even then each view answers 404 unless the request carries the run's secret
`X-Bench-Token`, so a stray BENCH_VIEWS=1 does not publish client names.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.template import engines
from django.utils.crypto import constant_time_compare

from clients.models import Client

# Ten rows, no base template, no context processors: what any page that lists ten clients
# from one query must at least pay.
BARE_TEMPLATE = engines["django"].from_string(
    "<!doctype html><title>Clients</title><table>"
    "{% for client in clients %}<tr><td>{{ client.name }}</td><td>{{ client.email }}</td>"
    '<td>{{ client.created_at|date:"M j, Y" }}</td></tr>{% endfor %}</table>'
)


def _require_token(request: HttpRequest) -> None:
    token = request.headers.get("X-Bench-Token", "")
    if not settings.BENCH_TOKEN or not constant_time_compare(token, settings.BENCH_TOKEN):
        raise Http404


def bare(request: HttpRequest) -> HttpResponse:
    """The ceiling: the ten newest clients from one query on the `client_newest_first` index,
    no login (so no session or user lookup: the one query is all the database work)."""
    _require_token(request)
    clients = Client.objects.order_by("-created_at", "-id")[:10]
    return HttpResponse(BARE_TEMPLATE.render({"clients": clients}))


def bare_logged_in(request: HttpRequest) -> HttpResponse:
    """The same behind the login: adds the session and user lookups every list page pays.
    The token comes first: without it the URL does not exist, not even as a login redirect."""
    _require_token(request)
    return login_required(bare)(request)
