"""Read-only admin of consent events and preferences, scoped to the business: they are
changed through the services only (an event per change), from the profile or the API."""

from django.contrib import admin

from customers.tenancy import TenantAdminMixin
from privacy.models import CommunicationPreference, ConsentEvent

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
    raw_id_fields = ["customer"]
