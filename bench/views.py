"""Bench-only views: the ceiling that `make bench` compares the real pages with.

Served only under bench.settings, which production never loads; even there each view answers
404 unless the request carries the run's secret `X-Bench-Token`, so a bench server reachable
by mistake does not publish client names.
"""

from functools import wraps

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


def bench_token_required(view):
    """404 unless X-Bench-Token is the run's token: checked before anything else, so without
    it the URL does not exist, not even as a login redirect."""

    @wraps(view)
    def guarded(request: HttpRequest) -> HttpResponse:
        token = request.headers.get("X-Bench-Token", "")
        if not settings.BENCH_TOKEN or not constant_time_compare(token, settings.BENCH_TOKEN):
            raise Http404
        return view(request)

    return guarded


def ten_newest(request: HttpRequest) -> HttpResponse:
    """The ten newest clients from one query on the `client_newest_first` index."""
    clients = Client.objects.order_by("-created_at", "-id")[:10]
    return HttpResponse(BARE_TEMPLATE.render({"clients": clients}))


# The ceiling: no login, so no session or user lookup: the one query is all the database work.
bare = bench_token_required(ten_newest)
# The same behind the login: adds the session and user lookups every list page pays.
bare_logged_in = bench_token_required(login_required(ten_newest))
