"""The pages of clients and their orders: the list, the forms, the client page, the merge and the
CSV export. Reads come from the querysets, selectors and the list's cache; writes that touch
several rows from services.

Each view names the one permission its action needs (clients/permissions.py): a guest is sent
to the login page, a logged-in user without it gets the 403 page and nothing changes."""

import re
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin, UserPassesTestMixin
from django.contrib.messages.views import SuccessMessageMixin
from django.core.exceptions import PermissionDenied
from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import (
    CreateView,
    DeleteView,
    DetailView,
    FormView,
    ListView,
    TemplateView,
    UpdateView,
)

from clients import permissions
from clients.cache import client_list_page
from clients.forms import ClientForm, ClientMergeForm, OrderForm, OrderStatusForm
from clients.models import Client, Order, TrashedClient
from clients.selectors import (
    EXPORT_CHUNK_SIZE,
    ClientListSpec,
    aiter_export,
    iter_export,
    trash_list,
)
from clients.services import (
    MergeError,
    TrashError,
    client_merge,
    client_restore,
    client_trash,
    trash_purge,
)
from core.mixins import AtomicFormMixin

# An id as typed in a form: ASCII digits only (str.isdigit() also takes "²", which int() refuses).
_ID = re.compile(r"[0-9]{1,18}")

# --- Clients --------------------------------------------------------------------------------
# The list's sortable columns: (sort key, header, first direction). Numbers and dates start
# with the largest (who buys most, who came last), names from A.
SORT_COLUMNS = [
    ("name", _("Client"), ""),
    ("orders_count", _("Orders"), "-"),
    ("orders_total", _("Total amount"), "-"),
    ("created_at", _("Added"), "-"),
]


def _href(spec: ClientListSpec, **changes) -> str:
    # A changed sort or filter starts again at page 1: the same page number of another order
    # or of other matches shows unrelated rows (and may not exist).
    return "?" + spec.query_string(**changes).removesuffix("&")


def sort_links(spec: ClientListSpec) -> dict[str, dict]:
    """Each sortable column's header by sort key: its link (the other direction when it is
    the sorted column, else its first direction) and its `aria-sort`."""
    links = {}
    for key, label, first in SORT_COLUMNS:
        current = spec.sort.removeprefix("-") == key
        descending = spec.sort.startswith("-")
        target = (key if descending else f"-{key}") if current else f"{first}{key}"
        links[key] = {
            "label": label,
            "href": _href(spec, sort=target),
            "aria_sort": ("descending" if descending else "ascending") if current else "",
        }
    return links


class ClientListView(PermissionRequiredMixin, ListView):
    """The client list: search by name or email, filter VIP and active, sort by name, orders,
    total or date added, 10 a page. Each page is one indexed query on the stored totals
    (clients.selectors.client_list), shared with the API and the CSV export."""

    permission_required = permissions.VIEW_CLIENT
    model = Client
    paginate_by = 10
    context_object_name = "clients"

    def get_queryset(self):
        self.spec = ClientListSpec.from_query(self.request.GET)
        return self.spec.queryset()

    def paginate_queryset(self, queryset, page_size):
        # get_page() turns a junk or out-of-range ?page= into the nearest real page, where
        # ListView would answer 404. The count, the rows and their HTML come from a versioned
        # cache; the page itself is rendered on every request (why not cache_page:
        # clients/cache.py).
        paginator, page = client_list_page(
            queryset,
            spec=self.spec,
            number=self.request.GET.get(self.page_kwarg),
            per_page=page_size,
            # Rows link to "<list_url><id>/" and "<list_url><id>/edit/": one reverse() for
            # the page instead of two a row (URL reversing was the largest part of a row's
            # rendering).
            list_url=reverse("clients:list"),
            can_change=self.request.user.has_perm(permissions.CHANGE_CLIENT),
        )
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        spec = self.spec
        context.update(
            q=spec.q,
            spec=spec,
            sort_links=sort_links(spec),
            vip_href=_href(spec, vip=None if spec.vip else "1"),
            active_href=_href(spec, active=None if spec.active else "1"),
            clear_filters_href=_href(spec, vip=None, active=None),
            clear_search_href=_href(spec, q=None),
            export_query=spec.query_string().removesuffix("&"),
            rows_html=context["page_obj"].html["rows"],
            pagination_html=context["page_obj"].html["pagination"],
        )
        return context


class UniqueEmailMixin:
    """The unique email's lost race is the form's error, as in the API (api/views.py), not a
    500: two people saving the same new address at once both pass the form's check, and the
    database's constraint refuses the second (its transaction, AtomicFormMixin, rolled back)."""

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except IntegrityError:
            email = form.cleaned_data.get("email", "")
            if not Client.objects.filter(email=email).exclude(pk=form.instance.pk).exists():
                raise
            form.add_error("email", Client._meta.get_field("email").error_messages["unique"])
            return self.form_invalid(form)


class ClientCreateView(
    PermissionRequiredMixin, UniqueEmailMixin, AtomicFormMixin, SuccessMessageMixin, CreateView
):
    permission_required = permissions.ADD_CLIENT
    model = Client
    form_class = ClientForm
    success_url = reverse_lazy("clients:list")
    success_message = _("Client “%(name)s” was added.")


class ClientUpdateView(
    PermissionRequiredMixin, UniqueEmailMixin, AtomicFormMixin, SuccessMessageMixin, UpdateView
):
    permission_required = permissions.CHANGE_CLIENT
    model = Client
    form_class = ClientForm
    success_url = reverse_lazy("clients:list")
    success_message = _("Client “%(name)s” was updated.")


class ClientDeleteView(PermissionRequiredMixin, DeleteView):
    """Delete = move to the trash (clients.services.client_trash), restorable for TRASH_DAYS
    at /clients/trash/."""

    permission_required = permissions.DELETE_CLIENT
    model = Client

    def get_context_data(self, **kwargs):
        until = timezone.now() + timedelta(days=settings.TRASH_DAYS)
        return super().get_context_data(
            restorable_until=until, trash_days=settings.TRASH_DAYS, **kwargs
        )

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except Http404:
            # Deleted a moment ago (another tab, another user): say where it went.
            gone = _gone(request, kwargs["pk"])
            if gone is None:
                raise
            return gone

    def form_valid(self, form):
        try:
            trashed = client_trash(client_id=self.object.pk, user=self.request.user)
        except TrashError as error:
            messages.error(self.request, str(error))
            return redirect("clients:list")
        values = {
            "name": trashed.name,
            "orders": trashed.orders_count,
            "until": date_format(timezone.localdate(trashed.restorable_until)),
        }
        if trashed.orders_count:
            text = ngettext(
                "“%(name)s” and its %(orders)d order were moved to the trash, restorable "
                "until %(until)s.",
                "“%(name)s” and its %(orders)d orders were moved to the trash, restorable "
                "until %(until)s.",
                trashed.orders_count,
            )
        else:
            text = _("“%(name)s” was moved to the trash, restorable until %(until)s.")
        link = format_html('<a href="{}">{}</a>', reverse("clients:trash"), _("Open the trash"))
        messages.success(self.request, format_html("{} {}", text % values, link))
        return redirect("clients:list")


def _gone(request, pk: int):
    """For a client that is in the trash: a redirect to it with a message (to who may see the
    trash; None for others, whose answer stays the 404 or list of before)."""
    if not request.user.has_perm(permissions.DELETE_CLIENT):
        return None
    trashed = TrashedClient.objects.defer("rows").filter(client_id=pk).first()
    if trashed is None:
        return None
    messages.info(
        request,
        _("“%(name)s” is in the trash: restore it from there.") % {"name": trashed.name},
    )
    return redirect(f"{reverse('clients:trash')}?{urlencode({'q': trashed.email})}")


# --- The trash ---------------------------------------------------------------------------------
class TrashListView(PermissionRequiredMixin, ListView):
    """Deleted clients, newest first, searchable by name or email: restorable by whoever may
    delete clients; a superuser may empty it."""

    permission_required = permissions.DELETE_CLIENT
    template_name = "clients/trash.html"
    context_object_name = "trashed"
    paginate_by = 25

    def get_queryset(self):
        return trash_list(q=self.request.GET.get("q", ""))

    def paginate_queryset(self, queryset, page_size):
        paginator = Paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = context["page_obj"]
        return context | {
            "page_range": page.paginator.get_elided_page_range(page.number),
            "q": self.request.GET.get("q", "").strip(),
            "trash_days": settings.TRASH_DAYS,
            "can_empty": self.request.user.is_superuser,
            "can_merge": self.request.user.has_perm(permissions.MERGE_CLIENT),
        }


class ClientRestoreView(PermissionRequiredMixin, View):
    """POST: bring a trashed client back with its orders. When a live client has taken its
    email, the answer (409) says which and offers to merge into it (`into`, which needs the
    merge permission too)."""

    permission_required = permissions.DELETE_CLIENT
    http_method_names = ["post"]

    def post(self, request, pk: int):
        into = request.POST.get("into")
        if into is not None:
            if not request.user.has_perm(permissions.MERGE_CLIENT):
                raise PermissionDenied
            if not _ID.fullmatch(into):
                return HttpResponseBadRequest(_("Choose the client to merge into."))
        try:
            result = client_restore(client_id=pk, into_id=int(into) if into else None)
        except TrashError as error:
            if error.code == "email_taken":
                trashed = get_object_or_404(TrashedClient.objects.defer("rows"), client_id=pk)
                context = {
                    "trashed": trashed,
                    "taken": error.client,
                    "taken_url": reverse("clients:detail", args=[error.client.pk]),
                    "taken_edit_url": reverse("clients:edit", args=[error.client.pk]),
                    "message": str(error),
                    "can_merge": request.user.has_perm(permissions.MERGE_CLIENT),
                }
                template = "clients/restore_conflict.html"
                return TemplateResponse(request, template, context, status=409)
            messages.error(request, str(error))
            return redirect("clients:trash")
        if result.merged:
            text = ngettext(
                "Merged the trashed client into “%(name)s”: %(orders)d order moved.",
                "Merged the trashed client into “%(name)s”: %(orders)d orders moved.",
                result.orders,
            )
        elif result.orders:
            text = ngettext(
                "“%(name)s” was restored with its %(orders)d order.",
                "“%(name)s” was restored with its %(orders)d orders.",
                result.orders,
            )
        else:
            text = _("“%(name)s” was restored.")
        messages.success(request, text % {"name": result.client.name, "orders": result.orders})
        return redirect("clients:detail", result.client.pk)


class TrashEmptyView(UserPassesTestMixin, TemplateView):
    """Superusers only: purge everything in the trash now (the daily purge takes what is older
    than TRASH_DAYS)."""

    template_name = "clients/trash_empty.html"

    def test_func(self) -> bool:
        return self.request.user.is_superuser

    def get_context_data(self, **kwargs):
        return super().get_context_data(count=TrashedClient.objects.count(), **kwargs)

    def post(self, request):
        purged = trash_purge()
        messages.success(
            request,
            ngettext(
                "The trash was emptied: %(count)d client deleted for good.",
                "The trash was emptied: %(count)d clients deleted for good.",
                purged,
            )
            % {"count": purged},
        )
        return redirect("clients:trash")


class ClientDetailView(PermissionRequiredMixin, DetailView):
    """A client with their order totals, their orders, newest first, 25 a page, and (through
    the template's `{% client_timeline %}`, timeline/) what is due next and their timeline."""

    permission_required = (permissions.VIEW_CLIENT, permissions.VIEW_ORDER)
    model = Client
    context_object_name = "client"
    orders_per_page = 25

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            # An old link to a client now in the trash: there, rather than "not found".
            gone = _gone(request, kwargs["pk"])
            if gone is None:
                raise
            return gone

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        paginator = Paginator(self.object.orders.all(), self.orders_per_page)
        page = paginator.get_page(self.request.GET.get("page"))
        context.update(
            orders=page.object_list,
            page_obj=page,
            page_range=paginator.get_elided_page_range(page.number),
            status_choices=Order.Status.choices,
            # Rows link to "<orders_url><id>/status/" and ".../edit/": one reverse() for the
            # page instead of two a row (as the client list does).
            orders_url=reverse("clients:order_add", args=[self.object.pk]).removesuffix("add/"),
        )
        return context


# --- Orders, under /clients/<pk>/orders/ --------------------------------------------------
class ClientOrderMixin(PermissionRequiredMixin):
    """The client from the URL (404 if unknown), and back to the client page on success."""

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.client_obj = None

    def get_client(self) -> Client:
        if self.client_obj is None:
            self.client_obj = get_object_or_404(Client, pk=self.kwargs["pk"])
        return self.client_obj

    def get_queryset(self):
        # Another client's order under this client's URL is a 404, not an edit.
        return Order.objects.filter(client=self.get_client())

    def get_context_data(self, **kwargs):
        return super().get_context_data(client=self.get_client(), **kwargs)

    def get_success_url(self) -> str:
        url = reverse("clients:detail", args=[self.kwargs["pk"]])
        # The quick status form sends the orders page it was on, so the user stays there.
        page = self.request.POST.get("page", "")
        return f"{url}?page={page}" if page.isdigit() and page != "1" else url


class OrderCreateView(ClientOrderMixin, AtomicFormMixin, SuccessMessageMixin, CreateView):
    permission_required = permissions.ADD_ORDER
    model = Order
    form_class = OrderForm
    success_message = _("Order “%(title)s” was added.")

    def form_valid(self, form):
        form.instance.client = self.get_client()
        return super().form_valid(form)


class OrderUpdateView(ClientOrderMixin, AtomicFormMixin, SuccessMessageMixin, UpdateView):
    permission_required = permissions.CHANGE_ORDER
    form_class = OrderForm
    pk_url_kwarg = "order_id"
    success_message = _("Order “%(title)s” was updated.")


class OrderStatusView(ClientOrderMixin, AtomicFormMixin, UpdateView):
    """POST only: set one order's status from the client page, then back to that page."""

    permission_required = permissions.CHANGE_ORDER
    form_class = OrderStatusForm
    pk_url_kwarg = "order_id"
    http_method_names = ["post"]

    def form_valid(self, form):
        response = super().form_valid(form)
        order = self.object
        messages.success(
            self.request,
            _("Order “%(title)s” is now %(status)s.")
            % {"title": order.title, "status": order.get_status_display().lower()},
        )
        return response

    def form_invalid(self, form):
        messages.error(self.request, _("That status does not exist: nothing was changed."))
        return redirect(self.get_success_url())


# --- Merge ----------------------------------------------------------------------------------
MERGE_CANDIDATES = 20


def _positive_int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


class ClientMergeView(PermissionRequiredMixin, FormView):
    """Pick the duplicate and the client to keep, then merge them (`clients.merge_client`).

    The choice is made with links, not a <select> (100k clients) nor a script (the CSP forbids
    inline scripts and nothing here needs one): a search lists candidates, each with "Merge
    away" and "Keep" links that put its id in the URL (`?source=` / `?target=`), so a choice
    survives the next search. Once both are chosen, one POST form with the two ids merges.
    """

    permission_required = permissions.MERGE_CLIENT
    form_class = ClientMergeForm
    template_name = "clients/client_merge.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        data = self.request.POST if self.request.method == "POST" else self.request.GET
        source_id, target_id = _positive_int(data.get("source")), _positive_int(data.get("target"))
        chosen = {c.pk: c for c in Client.objects.filter(pk__in=[source_id, target_id])}
        source, target = chosen.get(source_id), chosen.get(target_id)
        q = data.get("q")
        if q is None and source is not None:
            q = source.name  # coming from a client's page: its namesakes are the likely dupes
        q = (q or "").strip()

        def url(**params) -> str:
            params = {k: v for k, v in params.items() if v}
            return reverse("clients:merge") + (f"?{urlencode(params)}" if params else "")

        candidates = list(Client.objects.search(q)[: MERGE_CANDIDATES + 1]) if q else []
        for c in candidates:
            c.merge_away_url = url(q=q, source=c.pk, target=target and target.pk)
            c.keep_url = url(q=q, source=source and source.pk, target=c.pk)
        context.update(
            q=q,
            source=source,
            target=target,
            candidates=candidates[:MERGE_CANDIDATES],
            more_candidates=len(candidates) > MERGE_CANDIDATES,
            clear_source_url=url(q=q, target=target and target.pk),
            clear_target_url=url(q=q, source=source and source.pk),
            swap_url=url(q=q, source=target and target.pk, target=source and source.pk),
        )
        return context

    def form_valid(self, form):
        try:
            result = client_merge(
                source_id=form.cleaned_data["source"], target_id=form.cleaned_data["target"]
            )
        except MergeError as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        moved = result.orders_moved
        messages.success(
            self.request,
            ngettext(
                "Merged “%(source)s” into “%(target)s”: %(moved)d order moved.",
                "Merged “%(source)s” into “%(target)s”: %(moved)d orders moved.",
                moved,
            )
            % {"source": result.source_name, "target": result.target.name, "moved": moved},
        )
        return redirect("clients:detail", result.target.pk)


# --- CSV export -----------------------------------------------------------------------------
class ClientExportView(PermissionRequiredMixin, View):
    """GET /clients/export.csv[?q=&sort=&vip=1&active=1]: every client the list would show,
    in its order (clients.selectors.client_list), as a CSV download.

    Memory stays flat and there is one query whatever the number of rows: the rows stream from
    the database `chunk_size` at a time (clients.selectors.iter_export). Which generator
    streams depends on the server: under WSGI (gunicorn) Django streams a sync iterator but
    buffers an async one; under ASGI (daphne in `make run`, uvicorn) it is the reverse
    (docs/performance.md#streaming). So the view picks by the request's handler.
    """

    permission_required = permissions.EXPORT_CLIENT
    chunk_size = EXPORT_CHUNK_SIZE

    def get(self, request, *args, **kwargs):
        params = ClientListSpec.from_query(request.GET).params()
        if isinstance(request, ASGIRequest):
            content = aiter_export(chunk_size=self.chunk_size, **params)
        else:
            content = iter_export(chunk_size=self.chunk_size, **params)
        response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
        filename = f"clients-{timezone.localdate():%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        # A download of live data: never from a shared cache.
        response["Cache-Control"] = "private, no-store"
        return response
