from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from clients.models import Client, Order, TrashedClient
from clients.permissions import MERGE_CLIENT
from clients.services import (
    MergeError,
    TrashError,
    client_merge,
    client_restore,
    client_trash,
    trash_purge,
)
from history.admin import HistoryAdminMixin
from history.selectors import client_history


class OrderInline(admin.TabularInline):
    model = Order
    extra = 1
    fields = ["title", "amount", "status", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Client)
class ClientAdmin(HistoryAdminMixin, admin.ModelAdmin):
    """The clients. Its History button lists the client's whole history (history/): its own
    changes and its orders', notes' and tasks', merges and imports, from every path."""

    list_display = ["name", "email", "vip", "created_at"]
    list_filter = ["vip"]
    search_fields = ["name", "email"]
    date_hierarchy = "created_at"
    inlines = [OrderInline]
    actions = ["merge_two_clients"]

    def history_entries(self, request, object_id: int):
        return client_history(client_id=object_id, user=request.user)

    # --- Delete: to the trash, as in the pages and the API ------------------------------------
    def delete_model(self, request, obj):
        self.delete_queryset(request, Client.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        for pk in queryset.values_list("pk", flat=True):
            try:
                client_trash(client_id=pk, user=request.user)
            except TrashError as error:  # deleted or merged meanwhile, or busy
                self.message_user(request, str(error), messages.WARNING)

    # --- Merge: the same service and permission as /clients/merge/ ---------------------------
    def has_merge_permission(self, request) -> bool:
        return request.user.has_perm(MERGE_CLIENT)

    @admin.action(
        description=gettext_lazy("Merge the two selected clients (keeps the older one)"),
        permissions=["merge"],
    )
    def merge_two_clients(self, request, queryset):
        # No intermediate page: the older client is kept (the newer is usually the duplicate
        # typed in later); to choose which one to keep, use the merge page.
        pair = list(queryset.order_by("created_at", "pk")[:3])
        if len(pair) != 2:
            self.message_user(
                request,
                _(
                    "Select exactly two clients to merge (the older one is kept); "
                    "to choose which one to keep, use the merge page at /clients/merge/."
                ),
                messages.ERROR,
            )
            return
        target, source = pair
        try:
            result = client_merge(source_id=source.pk, target_id=target.pk)
        except MergeError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(
            request,
            ngettext(
                "Merged “%(source)s” into “%(target)s”: %(moved)d order moved.",
                "Merged “%(source)s” into “%(target)s”: %(moved)d orders moved.",
                result.orders_moved,
            )
            % {
                "source": result.source_name,
                "target": result.target.name,
                "moved": result.orders_moved,
            },
            messages.SUCCESS,
        )


@admin.register(Order)
class OrderAdmin(HistoryAdminMixin, admin.ModelAdmin):
    """The orders. Its History button lists the order's own history entries."""

    list_display = ["title", "client", "amount", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["title", "client__name", "client__email"]
    list_select_related = ["client"]
    autocomplete_fields = ["client"]


@admin.register(TrashedClient)
class TrashedClientAdmin(admin.ModelAdmin):
    """The trash, for superusers (it has no permissions of its own; others use /clients/trash/):
    restore, or delete for good."""

    list_display = ["name", "email", "orders_count", "deleted_at", "deleted_by"]
    search_fields = ["name", "email"]
    date_hierarchy = "deleted_at"
    exclude = ["rows"]
    readonly_fields = [f.name for f in TrashedClient._meta.fields if f.name != "rows"]
    actions = ["restore"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("rows").select_related("deleted_by")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    # Deleted for good as the purge does it: the avatars' files go too.
    def delete_model(self, request, obj):
        trash_purge(client_ids=[obj.client_id])

    def delete_queryset(self, request, queryset):
        trash_purge(client_ids=list(queryset.values_list("client_id", flat=True)))

    @admin.action(description=gettext_lazy("Restore the selected clients with their orders"))
    def restore(self, request, queryset):
        restored = 0
        for client_id in queryset.values_list("client_id", flat=True):
            try:
                client_restore(client_id=client_id)
            except TrashError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                restored += 1
        if restored:
            self.message_user(
                request,
                ngettext("%(count)d client restored.", "%(count)d clients restored.", restored)
                % {"count": restored},
                messages.SUCCESS,
            )
