from django.contrib import admin

from imports.models import Import


@admin.register(Import)
class ImportAdmin(admin.ModelAdmin):
    """The history of imports, to read: an import is made, committed and reverted through its
    page (/imports/<id>/), where the checks and the revert's rules apply."""

    list_display = ["file_name", "kind", "status", "user", "created_at", "rows", "created"]
    list_filter = ["kind", "status"]
    search_fields = ["file_name", "user__username"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    exclude = ["file", "invalid_file", "rows_file", "header"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # its records are what a revert undoes
