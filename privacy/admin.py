"""Read-only admin of consent events, preferences, the access log, data exports and
anonymization requests, scoped to the business: they change through the services only, from
the profile, /privacy/ or the API."""

from django.contrib import admin

from customers.tenancy import TenantAdminMixin
from privacy.models import AccessLog, AnonymizationRequest, CommunicationPreference, ConsentEvent, DataExport

# Preferences and consent


class ReadOnlyAdmin(TenantAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "customer", "purpose", "channel", "action", "source", "actor"]
    list_filter = ["purpose", "channel", "action", "source"]
    list_select_related = ["customer", "actor"]
    search_fields = ["customer__phone", "evidence", "reference"]
    raw_id_fields = ["customer"]
    date_hierarchy = "at"


@admin.register(CommunicationPreference)
class CommunicationPreferenceAdmin(ReadOnlyAdmin):
    list_display = ["customer", "email_marketing", "sms_marketing", "push_notifications", "updated_at"]
    list_filter = ["email_marketing", "sms_marketing", "push_notifications", "frequency"]
    list_select_related = ["customer"]
    search_fields = ["customer__phone"]


# Access log, exports and anonymization


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
