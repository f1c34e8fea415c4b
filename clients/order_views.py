"""The client page and the order forms: orders in the app, not only in the admin."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.messages.views import SuccessMessageMixin
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import CreateView, DetailView, UpdateView

from clients.forms import OrderForm, OrderStatusForm
from clients.models import Client, Order


class ClientDetailView(LoginRequiredMixin, DetailView):
    """A client with their order totals and their orders, newest first, 25 a page."""

    queryset = Client.objects.with_order_totals()
    context_object_name = "client"
    orders_per_page = 25

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        paginator = Paginator(self.object.orders.all(), self.orders_per_page)
        page = paginator.get_page(self.request.GET.get("page"))
        context.update(
            orders=page.object_list,
            page_obj=page,
            page_range=paginator.get_elided_page_range(page.number),
            status_choices=Order.Status.choices,
        )
        return context


class ClientOrderMixin(LoginRequiredMixin):
    """Views under /clients/<pk>/orders/: the client from the URL (404 if unknown), and back
    to the client page on success."""

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.client_obj = None

    def get_client(self) -> Client:
        if self.client_obj is None:
            self.client_obj = get_object_or_404(Client, pk=self.kwargs["pk"])
        return self.client_obj

    def get_context_data(self, **kwargs):
        return super().get_context_data(client=self.get_client(), **kwargs)

    def get_success_url(self) -> str:
        url = reverse("clients:detail", args=[self.kwargs["pk"]])
        # The quick status form sends the orders page it was on, so the user stays there.
        page = self.request.POST.get("page", "")
        return f"{url}?page={page}" if page.isdigit() and page != "1" else url


class OrderCreateView(ClientOrderMixin, SuccessMessageMixin, CreateView):
    model = Order
    form_class = OrderForm
    success_message = "Order “%(title)s” was added."

    def form_valid(self, form):
        form.instance.client = self.get_client()
        return super().form_valid(form)


class OrderUpdateView(ClientOrderMixin, SuccessMessageMixin, UpdateView):
    form_class = OrderForm
    pk_url_kwarg = "order_id"
    success_message = "Order “%(title)s” was updated."

    def get_queryset(self):
        # Another client's order under this client's URL is a 404, not an edit.
        return Order.objects.filter(client=self.get_client())


class OrderStatusView(ClientOrderMixin, UpdateView):
    """POST only: set one order's status from the client page, then back to that page."""

    form_class = OrderStatusForm
    pk_url_kwarg = "order_id"
    http_method_names = ["post"]

    def get_queryset(self):
        return Order.objects.filter(client=self.get_client())

    def form_valid(self, form):
        response = super().form_valid(form)
        order = self.object
        messages.success(
            self.request, f"Order “{order.title}” is now {order.get_status_display().lower()}."
        )
        return response

    def form_invalid(self, form):
        messages.error(self.request, "That status does not exist: nothing was changed.")
        return redirect(self.get_success_url())
