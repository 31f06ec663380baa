"""Read-only admin of tier changes, configuration audits and the points ledger; the tier
configuration and the points rule change through the same services as the page
(loyalty.services.configure_tiers, configure_points_rule)."""

from django.contrib import admin

from customers.tenancy import TenantAdminMixin
from loyalty import services
from loyalty.models import PointsEntry, PointsRule, TierChange, TierConfigAudit


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


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "customer", "kind", "points", "order", "reason", "actor"]
    list_filter = ["kind"]
    list_select_related = ["customer", "order", "actor"]
    search_fields = ["customer__phone", "reason", "order__external_id"]
    raw_id_fields = ["customer", "order"]
    date_hierarchy = "created_at"


@admin.register(PointsRule)
class PointsRuleAdmin(TenantAdminMixin, admin.ModelAdmin):
    list_display = ["business", "points_per_unit", "expiry_months", "updated_at", "updated_by"]
    fields = ["points_per_unit", "expiry_months"]

    def has_add_permission(self, request, obj=None):
        return False  # each business has one, created with the defaults when first needed

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.configure_points_rule(
            business=obj.business,
            points_per_unit=form.cleaned_data["points_per_unit"],
            expiry_months=form.cleaned_data["expiry_months"],
            actor=request.user,
        )
