"""Read-only admin of tier changes and configuration audits; the configuration itself is
changed through the same service as the page (loyalty.services.configure_tiers)."""

from django.contrib import admin

from customers.tenancy import TenantAdminMixin
from loyalty.models import TierChange, TierConfigAudit


class ReadOnlyAdmin(TenantAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TierChange)
class TierChangeAdmin(ReadOnlyAdmin):
    list_display = ["changed_at", "customer", "from_tier", "to_tier", "cause", "actor"]
    list_filter = ["cause", "to_tier"]
    list_select_related = ["customer", "actor"]
    search_fields = ["customer__phone", "reason"]
    raw_id_fields = ["customer"]
    date_hierarchy = "changed_at"


@admin.register(TierConfigAudit)
class TierConfigAuditAdmin(ReadOnlyAdmin):
    list_display = ["changed_at", "changed_by", "reason"]
    list_select_related = ["changed_by"]
    search_fields = ["reason"]
    date_hierarchy = "changed_at"
