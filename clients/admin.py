from django.contrib import admin

from clients.models import Client, Order


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


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["title", "client", "amount", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["title", "client__name", "client__email"]
    list_select_related = ["client"]
    autocomplete_fields = ["client"]
