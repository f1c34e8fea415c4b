from django.contrib import admin

from reports.models import ReportRun


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    """Read-only history: runs are written by reports.services only."""

    list_display = ["month", "status", "sent_at", "row_count", "total_amount", "attempts"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in ReportRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
