"""Read-only admin of the access log, data exports and anonymization requests, scoped to the
business; requests are decided on /privacy/, by the services."""

from django.contrib import admin

from customers.tenancy import TenantAdminMixin
from privacy.models import AccessLog, AnonymizationRequest, DataExport


class ReadOnlyAdmin(TenantAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "what", "actor", "api_key", "customer_count", "customer_ids", "remote_addr"]
    list_filter = ["what"]
    list_select_related = ["actor", "api_key"]
    search_fields = ["customer_ids", "actor__username"]
    date_hierarchy = "at"
    show_full_result_count = False


@admin.register(DataExport)
class DataExportAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "customer",
        "type",
        "regulation",
        "status",
        "requested_by",
        "due_at",
        "completed_at",
    ]
    list_filter = ["status", "type", "regulation"]
    list_select_related = ["customer", "requested_by"]
    raw_id_fields = ["customer"]
    exclude = ["file"]


@admin.register(AnonymizationRequest)
class AnonymizationRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "customer",
        "source",
        "status",
        "requested_by",
        "decided_by",
        "due_at",
        "completed_at",
    ]
    list_filter = ["status", "source", "regulation"]
    list_select_related = ["customer", "requested_by", "decided_by"]
    raw_id_fields = ["customer"]
