from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.messages.views import SuccessMessageMixin
from django.template.defaultfilters import pluralize
from django.urls import reverse, reverse_lazy
from django.views.generic import CreateView, DeleteView, ListView, UpdateView

from clients.cache import client_list_page
from clients.forms import ClientForm
from clients.models import Client


class ClientListView(LoginRequiredMixin, ListView):
    """The client list: search by name or email, 10 a page, each with its order totals."""

    model = Client
    paginate_by = 10
    context_object_name = "clients"

    def get_queryset(self):
        return Client.objects.search(self.request.GET.get("q", ""))

    def paginate_queryset(self, queryset, page_size):
        # get_page() turns a junk or out-of-range ?page= into the nearest real page, where
        # ListView would answer 404; the totals are computed for that page only. The count,
        # the rows and their HTML come from a versioned cache; the page itself is rendered on
        # every request (why not cache_page: clients/cache.py).
        paginator, page = client_list_page(
            queryset,
            q=self.request.GET.get("q", ""),
            number=self.request.GET.get(self.page_kwarg),
            per_page=page_size,
            # Rows link to "<list_url><id>/" and "<list_url><id>/edit/": one reverse() for
            # the page instead of two a row (URL reversing was the largest part of a row's
            # rendering).
            list_url=reverse("clients:list"),
        )
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["q"] = self.request.GET.get("q", "").strip()
        context["rows_html"] = context["page_obj"].html["rows"]
        context["pagination_html"] = context["page_obj"].html["pagination"]
        return context


class ClientCreateView(LoginRequiredMixin, SuccessMessageMixin, CreateView):
    model = Client
    form_class = ClientForm
    success_url = reverse_lazy("clients:list")
    success_message = "Client “%(name)s” was added."


class ClientUpdateView(LoginRequiredMixin, SuccessMessageMixin, UpdateView):
    model = Client
    form_class = ClientForm
    success_url = reverse_lazy("clients:list")
    success_message = "Client “%(name)s” was updated."


class ClientDeleteView(LoginRequiredMixin, DeleteView):
    model = Client
    success_url = reverse_lazy("clients:list")

    def get_context_data(self, **kwargs):
        # The orders go with the client (CASCADE): say so before, and after.
        return super().get_context_data(orders_count=self.object.orders.count(), **kwargs)

    def form_valid(self, form):
        name = self.object.name
        orders = self.object.orders.count()
        response = super().form_valid(form)
        messages.success(
            self.request,
            f"Client “{name}” was deleted. {orders} order{pluralize(orders)} "
            f"{pluralize(orders, 'was,were')} deleted with it.",
        )
        return response
