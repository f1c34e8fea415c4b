"""The orders pages: every order in a filtered, sorted list, and the pipeline board where a card
moves to another status. Reads come from orders.selectors, the move from orders.services.

Each view names the permissions it needs (clients/permissions.py): a guest is sent to the login
page, a logged-in user without them gets the 403 page. Every row and card names its client, so
seeing them takes `view_client` beside `view_order`, as the client page does."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import ListView, TemplateView

from clients import permissions
from clients.models import Client, Order
from orders import selectors
from orders.forms import OrderFilterForm, OrderMoveForm
from orders.selectors import DEFAULT_SORT, OrderFilters
from orders.services import order_move

VIEWING = (permissions.VIEW_CLIENT, permissions.VIEW_ORDER)
# The list's sort menu (the column headers sort too, but are hidden on a narrow screen).
SORT_CHOICES = [
    ("-created_at", gettext_lazy("Newest first")),
    ("created_at", gettext_lazy("Oldest first")),
    ("-amount", gettext_lazy("Largest amount")),
    ("amount", gettext_lazy("Smallest amount")),
]


def _wants_json(request) -> bool:
    # The board's script asks for JSON first; a browser's form (Accept: text/html, ..., */*)
    # gets the page and its redirect.
    return request.headers.get("Accept", "").startswith("application/json")


# --- The list -------------------------------------------------------------------------------
def _sort_link(current: str, field: str, url) -> dict:
    """A sortable header: its aria-sort, and the link to the other direction when the list is
    sorted by it, else to the biggest or newest first. A new sort starts at page 1."""
    if current == field:
        return {"aria_sort": "ascending", "url": url(sort=f"-{field}")}
    if current == f"-{field}":
        return {"aria_sort": "descending", "url": url(sort=field)}
    return {"aria_sort": "", "url": url(sort=f"-{field}")}


class OrderListView(PermissionRequiredMixin, ListView):
    """All orders: filter by status and client, search by title or client name, sort by amount
    or date, 25 a page. Junk parameters are dropped with a notice, never an error page."""

    permission_required = VIEWING
    template_name = "orders/order_list.html"
    context_object_name = "orders"
    paginate_by = 25

    def get_filters(self) -> tuple[OrderFilters, list[str]]:
        form = OrderFilterForm(self.request.GET)
        form.is_valid()
        data, notices = form.cleaned_data, [form.NOTICES[name] for name in form.errors]
        client = None
        if data.get("client"):
            client = Client.objects.filter(pk=data["client"]).first()
            if client is None:
                notices.append(form.NOTICES["client"])
        filters = OrderFilters(
            status=data.get("status") or "",
            client=client,
            q=(data.get("q") or "").strip(),
            sort=data.get("sort") or DEFAULT_SORT,
        )
        return filters, notices

    def get_queryset(self):
        self.filters, self.notices = self.get_filters()
        return self.filters.queryset()

    def paginate_queryset(self, queryset, page_size):
        page = selectors.order_list_page(
            self.filters,
            queryset,
            number=self.request.GET.get(self.page_kwarg),
            per_page=page_size,
            version=selectors.current_version(),
        )
        return page.paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filters, page = self.filters, context["page_obj"]
        kept = {
            "status": filters.status,
            "client": filters.client.pk if filters.client else "",
            "q": filters.q,
            "sort": filters.sort if filters.sort != DEFAULT_SORT else "",
        }

        def url(**changes) -> str:
            # Every link keeps every parameter but the page: a new filter starts at page 1.
            params = {k: v for k, v in {**kept, **changes}.items() if v}
            return f"?{urlencode(params)}" if params else "?"

        context.update(
            filters=filters,
            notices=self.notices,
            columns=page.columns,
            status_links=[
                {"status": "", "label": _("All"), "url": url(status="")},
                *(
                    {"status": c.status, "label": c.label, "count": c.count}
                    | {"url": url(status=c.status)}
                    for c in page.columns
                ),
            ],
            sort_amount=_sort_link(filters.sort, "amount", url),
            sort_date=_sort_link(filters.sort, "created_at", url),
            clear_client_url=url(client=""),
            clear_search_url=url(q=""),
            # Page links: "?<the kept parameters>&page=N".
            page_query=url()[1:] + ("&" if url() != "?" else ""),
            page_range=page.paginator.get_elided_page_range(page.number),
            sort_choices=SORT_CHOICES,
            filtered=bool(filters.status or filters.client or filters.q),
        )
        return context


# --- The board ------------------------------------------------------------------------------
def board_columns(*, version: int | None) -> list[dict]:
    """The board's columns: each status's count, amount, newest cards and how many more."""
    cards = selectors.newest_cards()
    return [
        {
            "column": column,
            "cards": cards[column.status],
            "more": max(0, column.count - len(cards[column.status])),
        }
        for column in selectors.column_totals(version=version)
    ]


class OrderBoardView(PermissionRequiredMixin, TemplateView):
    """The pipeline: a column per status with its count and amount and its newest cards. With
    `change_order`, each card moves to another column (a form; drag and drop with the script),
    and the open boards follow every change live (live/consumers.py OrdersLiveConsumer)."""

    permission_required = VIEWING
    template_name = "orders/board.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            columns=board_columns(version=selectors.current_version()),
            can_move=self.request.user.has_perm(permissions.CHANGE_ORDER),
            statuses=Order.Status.choices,
            **kwargs,
        )


class OrderBoardDataView(PermissionRequiredMixin, View):
    """GET: the board's columns as JSON, for the script to bring an open board up to date
    after live events."""

    permission_required = VIEWING

    def get(self, request, *args, **kwargs):
        columns = board_columns(version=selectors.current_version())
        data = {
            "columns": [
                {
                    "status": c["column"].status,
                    "label": c["column"].label,
                    "count": c["column"].count,
                    "amount": selectors.money(c["column"].amount),
                    "more": c["more"],
                    "cards": [selectors.card_data(order) for order in c["cards"]],
                }
                for c in columns
            ]
        }
        response = JsonResponse(data)
        response["Cache-Control"] = "private, no-store"
        return response


class OrderMoveView(PermissionRequiredMixin, View):
    """POST /orders/<pk>/move/ status=<STATUS>: put a card in another column.

    From the board's form: back to the board with a message (post/redirect/get). From the
    script (Accept: application/json): the order's new card, or the reason it did not move."""

    permission_required = permissions.CHANGE_ORDER
    http_method_names = ["post"]

    def post(self, request, pk: int):
        form = OrderMoveForm(request.POST)
        if not form.is_valid():
            return self.refuse(form.errors["status"][0], status=400)
        try:
            order, previous = order_move(order_id=pk, status=form.cleaned_data["status"])
        except Order.DoesNotExist:
            return self.refuse(_("That order no longer exists: it was deleted."), status=404)
        label = order.get_status_display()
        if previous == order.status:
            text = _("Order “%(title)s” is already %(status)s.")
        else:
            text = _("Order “%(title)s” moved to %(status)s.")
        text = text % {"title": order.title, "status": label}
        if _wants_json(request):
            return JsonResponse(
                {"order": selectors.card_data(order), "previous_status": previous, "message": text}
            )
        messages.success(request, text)
        return redirect("orders:board")

    def refuse(self, text: str, *, status: int):
        if _wants_json(self.request):
            return JsonResponse({"error": text}, status=status)
        messages.error(self.request, text)
        return redirect("orders:board")
