from django.contrib import admin

from customers.models import Business, Membership
from customers.tenancy import TenantAdminMixin


@admin.register(Business)
class BusinessAdmin(TenantAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "default_country", "currency", "timezone", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "business", "role", "created_at"]
    list_filter = ["role", "business"]
    search_fields = ["user__username", "business__name"]
    autocomplete_fields = ["business"]
