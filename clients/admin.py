from django.contrib import admin, messages

from clients.models import Client, Order
from clients.permissions import MERGE_CLIENT
from clients.services import MergeError, client_merge


class OrderInline(admin.TabularInline):
    model = Order
    extra = 1
    fields = ["title", "amount", "status", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "vip", "created_at"]
    list_filter = ["vip"]
    search_fields = ["name", "email"]
    date_hierarchy = "created_at"
    inlines = [OrderInline]
    actions = ["merge_two_clients"]

    # --- Merge: the same service and permission as /clients/merge/ ---------------------------
    def has_merge_permission(self, request) -> bool:
        return request.user.has_perm(MERGE_CLIENT)

    @admin.action(
        description="Merge the two selected clients (keeps the older one)",
        permissions=["merge"],
    )
    def merge_two_clients(self, request, queryset):
        # No intermediate page: the older client is kept (the newer is usually the duplicate
        # typed in later); to choose which one to keep, use the merge page.
        pair = list(queryset.order_by("created_at", "pk")[:3])
        if len(pair) != 2:
            self.message_user(
                request,
                "Select exactly two clients to merge (the older one is kept); "
                "to choose which one to keep, use the merge page at /clients/merge/.",
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
            f"Merged “{result.source_name}” into “{result.target.name}”: "
            f"{result.orders_moved} order{'s' if result.orders_moved != 1 else ''} moved.",
            messages.SUCCESS,
        )


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["title", "client", "amount", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["title", "client__name", "client__email"]
    list_select_related = ["client"]
    autocomplete_fields = ["client"]
