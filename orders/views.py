"""The orders pages (work in progress: the list, the board and the move come next)."""

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpResponseNotAllowed
from django.views.generic import TemplateView, View

from clients import permissions


class OrderListView(PermissionRequiredMixin, TemplateView):
    permission_required = permissions.VIEW_ORDER
    template_name = "orders/order_list.html"


class OrderBoardView(PermissionRequiredMixin, TemplateView):
    permission_required = permissions.VIEW_ORDER
    template_name = "orders/board.html"


class OrderMoveView(PermissionRequiredMixin, View):
    permission_required = permissions.CHANGE_ORDER

    def post(self, request, *args, **kwargs):
        return HttpResponseNotAllowed(["POST"])
