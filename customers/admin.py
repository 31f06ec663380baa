from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from customers import services
from customers.admin_mixins import BusinessImportExportMixin
from customers.choices import API_SCOPES
from customers.forms import BlacklistForm, IsoDateField
from customers.merge_registry import MAX_MERGED_AT_ONCE
from customers.models import (
    Activity,
    ApiKey,
    AuditEntry,
    BlacklistEntry,
    Business,
    Customer,
    CustomerAccount,
    Dropoff,
    Membership,
    MergeRecord,
    Note,
    Order,
    OrderItem,
    Payment,
    Refund,
    Tag,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from customers.resources import CustomerResource, OrderResource
from customers.signals import ADMIN_VIEWED, send_pii_accessed
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


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AccountInline(ReadOnlyInline):
    model = CustomerAccount
    fields = ["provider", "email", "external_id", "phone", "created_at"]


class DropoffInline(ReadOnlyInline):
    model = Dropoff
    fields = ["kind", "is_default", "street", "street2", "city", "state", "postal_code", "country"]


class NoteInline(ReadOnlyInline):
    model = Note
    fields = ["created_at", "author", "body"]


@admin.register(Customer)
class CustomerAdmin(TenantAdminMixin, BusinessImportExportMixin, admin.ModelAdmin):
    resource_classes = [CustomerResource]
    list_display = [
        "phone",
        "first_name",
        "last_name",
        "email",
        "status",
        "is_blacklisted",
        "tier",
        "order_count",
        "total_spent",
        "last_order_at",
        "created_at",
    ]
    list_filter = ["status", "is_blacklisted", "tier", "tags", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["=phone", "first_name", "last_name", "email"]
    list_select_related = ["business"]
    show_full_result_count = False
    ordering = ["-created_at", "-id"]
    # Everything but the contact data changes through its own service (blacklist, tags,
    # orders, merge), never through this form.
    readonly_fields = [
        "phone_verified",
        "is_blacklisted",
        "tier",
        "points_balance",
        "tags",
        "order_count",
        "total_spent",
        "first_order_at",
        "last_order_at",
        "created_at",
        "deleted_at",
        "merged_into",
        "anonymized_at",
    ]
    fields = [*services.CONTACT_FIELDS, *readonly_fields]
    formfield_overrides = {models.DateField: {"form_class": IsoDateField}}
    inlines = [AccountInline, DropoffInline, NoteInline]
    actions = ["blacklist_selected", "unblacklist_selected", "restore_selected", "merge_selected"]

    def get_search_results(self, request, queryset, search_term):
        """A phone in any format finds the customer; for platform staff, in every business
        (a data-subject request names a person, not a business)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        country = request.business.default_country if request.business else "US"
        try:
            phone = services.normalize_phone(search_term, country)
        except ValidationError:
            return results, may_have_duplicates
        return results | queryset.filter(phone=phone), may_have_duplicates

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        # A customer shown (not a redirect after saving, not a 404) reveals their data.
        if request.method == "GET" and response.status_code == 200 and object_id.isdigit():
            send_pii_accessed(request, customer_ids=[int(object_id)], what=ADMIN_VIEWED)
        return response

    def save_model(self, request, obj, form, change):
        contact = {
            field: form.cleaned_data[field] for field in services.CONTACT_FIELDS if field in form.cleaned_data
        }
        if change:
            services.update_contact(customer=obj, actor=request.user, **contact)
        else:
            phone = contact.pop("phone")
            customer, _ = services.get_or_create_customer(
                business=request.business, phone=phone, actor=request.user, **contact
            )
            obj.pk = customer.pk

    def get_deleted_objects(self, objs, request):
        # A soft delete hides the customers and removes nothing that hangs off them.
        return [str(obj) for obj in objs], {self.opts.verbose_name_plural: len(objs)}, set(), []

    def delete_model(self, request, obj):
        services.delete_customer(customer=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for customer in queryset:
            services.delete_customer(customer=customer, actor=request.user)

    @admin.action(description="Blacklist selected customers", permissions=["blacklist"])
    def blacklist_selected(self, request, queryset):
        return self._blacklist_action(
            request,
            queryset,
            services.blacklist_many,
            "blacklist_selected",
            "Blacklist",
            unblacklisting=False,
        )

    @admin.action(description="Un-blacklist selected customers", permissions=["blacklist"])
    def unblacklist_selected(self, request, queryset):
        return self._blacklist_action(
            request,
            queryset,
            services.unblacklist_many,
            "unblacklist_selected",
            "Un-blacklist",
            unblacklisting=True,
        )

    def _blacklist_action(self, request, queryset, service, action_name, verb, unblacklisting):
        form = BlacklistForm(request.POST if "apply" in request.POST else None, unblacklisting=unblacklisting)
        if form.is_valid():
            changed = service(customers=queryset, actor=request.user, **form.cleaned_data)
            self.message_user(request, f"{verb}ed {changed} customer(s).", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/customers/blacklist_action.html",
            {
                **self.admin_site.each_context(request),
                "title": f"{verb} {queryset.count()} customer(s)",
                "opts": self.opts,
                "form": form,
                "customers": queryset,
                "action_name": action_name,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Restore selected deleted customers", permissions=["restore"])
    def restore_selected(self, request, queryset):
        for customer in queryset.filter(deleted_at__isnull=False):
            try:
                services.restore_customer(customer=customer, actor=request.user)
            except ValidationError as error:
                self.message_user(request, f"{customer}: {' '.join(error.messages)}", messages.ERROR)

    def has_blacklist_permission(self, request):
        return request.user.has_perm("customers.blacklist_customer")

    def has_restore_permission(self, request):
        return request.user.has_perm("customers.restore_customer")

    @admin.action(description="Merge selected customers", permissions=["merge"])
    def merge_selected(self, request, queryset):
        # The merge page compares the records field by field, previews what moves and calls
        # services.merge_customers with the user's choices.
        ids = sorted(queryset.values_list("pk", flat=True))
        if not 2 <= len(ids) <= MAX_MERGED_AT_ONCE:
            message = f"Select 2 to {MAX_MERGED_AT_ONCE} customers to merge."
            self.message_user(request, message, messages.ERROR)
            return None
        return HttpResponseRedirect(f"{reverse('customers:merge')}?ids={','.join(map(str, ids))}")

    def has_merge_permission(self, request):
        return request.user.has_perm("customers.merge_customers")


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    fields = ["sku", "name", "category", "quantity", "price"]


@admin.register(Order)
class OrderAdmin(TenantAdminMixin, BusinessImportExportMixin, admin.ModelAdmin):
    resource_classes = [OrderResource]
    list_display = ["external_id", "customer", "amount", "currency", "status", "source", "placed_at"]
    list_filter = ["status", "source", "placed_at"]
    search_fields = ["=external_id", "=customer__phone"]
    list_select_related = ["customer"]
    show_full_result_count = False
    ordering = ["-placed_at", "-id"]
    fields = [
        "external_id",
        "customer",
        "amount",
        "currency",
        "status",
        "placed_at",
        "completed_at",
        "source",
        "dropoff",
        "original_dropoff",
        "created_customer",
    ]
    readonly_fields = [
        "external_id",
        "customer",
        "amount",
        "currency",
        "placed_at",
        "completed_at",
        "source",
        "dropoff",
        "original_dropoff",
        "created_customer",
    ]
    inlines = [OrderItemInline]

    def has_add_permission(self, request):
        # Orders arrive through the API and imports, which run the whole recording service.
        return False

    def save_model(self, request, obj, form, change):
        services.change_order_status(order=obj, status=form.cleaned_data["status"], actor=request.user)

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(TenantAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ["created_at", "amount", "reason", "actor", "source"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    """Payments as the providers reported them; refunds are made on the profile or the API,
    under the payment's lock, never by editing rows."""

    list_display = [
        "transaction_id",
        "order",
        "amount",
        "currency",
        "method",
        "status",
        "refunded_amount",
        "processed_at",
    ]
    list_filter = ["status", "method", "provider"]
    search_fields = ["=transaction_id", "=order__external_id", "=order__customer__phone"]
    list_select_related = ["order"]
    show_full_result_count = False
    ordering = ["-created_at", "-id"]
    inlines = [RefundInline]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "payment", "amount", "reason", "actor", "source"]
    search_fields = ["=payment__transaction_id", "=payment__order__external_id"]
    list_select_related = ["payment", "actor"]
    show_full_result_count = False


@admin.register(Dropoff)
class DropoffAdmin(ReadOnlyAdmin):
    list_display = ["customer", "kind", "is_default", "street", "city", "postal_code", "country"]
    list_filter = ["kind", "country"]
    search_fields = ["=customer__phone", "city", "postal_code"]
    list_select_related = ["customer"]
    show_full_result_count = False


@admin.register(BlacklistEntry)
class BlacklistEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "customer", "action", "reason", "actor", "note"]
    list_filter = ["action", "reason"]
    search_fields = ["=customer__phone"]
    list_select_related = ["customer", "actor"]


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "customer", "kind", "actor"]
    list_filter = ["kind"]
    search_fields = ["=customer__phone"]
    list_select_related = ["customer", "actor"]
    show_full_result_count = False


@admin.register(Tag)
class TagAdmin(TenantAdminMixin, admin.ModelAdmin):
    list_display = ["name", "color"]
    search_fields = ["name"]

    def get_form(self, request, obj=None, **kwargs):
        """A form that refuses a name taken in any case; the model's own constraint check
        skips the business, which is not a field of the form for most users."""
        base = super().get_form(request, obj, **kwargs)
        default_business = obj.business if obj else request.business

        class TagForm(base):
            def clean(self):
                cleaned = super().clean()
                business = cleaned.get("business") or default_business
                name = cleaned.get("name")
                taken = Tag.objects.filter(business=business, name__iexact=name).exclude(pk=self.instance.pk)
                if name and taken.exists():
                    self.add_error("name", "This business has a tag of this name already (in any case).")
                return cleaned

        return TagForm


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(scope, f"{scope}: {text}") for scope, text in API_SCOPES.items()],
        widget=forms.CheckboxSelectMultiple,
        help_text="“admin” covers every other scope.",
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes"]


@admin.register(ApiKey)
class ApiKeyAdmin(TenantAdminMixin, admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ["name", "prefix", "scope_list", "created_at", "last_used_at", "revoked_at"]
    fields = ["name", "scopes", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_selected"]

    @admin.display(description="scopes")
    def scope_list(self, api_key):
        return ", ".join(api_key.scopes)

    def save_model(self, request, obj, form, change):
        if change:
            services.rename_api_key(api_key=obj, name=obj.name, actor=request.user)
            services.change_api_key_scopes(
                api_key=obj, scopes=form.cleaned_data["scopes"], actor=request.user
            )
            return
        api_key, secret = services.create_api_key(
            business=request.business, name=obj.name, scopes=form.cleaned_data["scopes"], actor=request.user
        )
        obj.pk = api_key.pk
        self.message_user(request, f"New API key (shown once, copy it now): {secret}", messages.WARNING)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke_selected(self, request, queryset):
        for api_key in queryset:
            services.revoke_api_key(api_key=api_key, actor=request.user)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "target", "actor_or_system"]
    list_filter = ["action"]
    search_fields = ["target"]
    list_select_related = ["actor"]

    @admin.display(description="actor", ordering="actor")
    def actor_or_system(self, entry):
        return entry.actor or "system"


@admin.register(MergeRecord)
class MergeRecordAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "survivor", "merged_ids", "actor", "reason", "undone_at"]
    list_select_related = ["survivor", "actor"]
    search_fields = ["=survivor__phone", "reason"]
    exclude = ["snapshot", "moved"]


# Webhooks ------------------------------------------------------------------------------


class WebhookEndpointAdminForm(forms.ModelForm):
    # Checked by services.clean_endpoint, which knows whether http:// is allowed.
    url = forms.CharField(label="URL", max_length=500)

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "events", "secret", "active", "description"]

    def clean(self):
        cleaned = super().clean()
        try:
            services.clean_endpoint(
                url=cleaned.get("url"), events=cleaned.get("events"), secret=cleaned.get("secret")
            )
        except ValidationError as error:
            for field, messages_ in error.message_dict.items():
                self.add_error(field, messages_)
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantAdminMixin, admin.ModelAdmin):
    form = WebhookEndpointAdminForm
    list_display = ["url", "events", "active", "failing_since", "created_at"]
    list_filter = ["active"]
    readonly_fields = ["failing_since", "disabled_reason", "created_at"]
    actions = ["send_test_events"]

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name] for name in ["url", "events", "secret", "active", "description"]
        }
        if change:
            services.update_endpoint(endpoint=obj, actor=request.user, **fields)
            return
        endpoint = services.create_endpoint(business=request.business, actor=request.user, **fields)
        obj.pk = endpoint.pk

    def delete_model(self, request, obj):
        services.delete_endpoint(endpoint=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            services.delete_endpoint(endpoint=endpoint, actor=request.user)

    @admin.action(description="Send a test event", permissions=["change"])
    def send_test_events(self, request, queryset):
        for endpoint in queryset:
            try:
                services.send_test_event(endpoint=endpoint, actor=request.user)
            except ValidationError as error:
                self.message_user(request, f"{endpoint}: {' '.join(error.messages)}", messages.WARNING)


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ["attempted_at", "succeeded", "response_code", "duration_ms", "error", "response_excerpt"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "endpoint", "event", "status", "attempts", "last_response_code", "last_attempt_at"]
    list_filter = ["status"]
    list_select_related = ["endpoint", "event"]
    inlines = [WebhookAttemptInline]
    show_full_result_count = False
    actions = ["redeliver_selected"]

    def has_redeliver_permission(self, request):
        return request.user.has_perm("customers.change_webhookendpoint")

    @admin.action(description="Redeliver the selected deliveries", permissions=["redeliver"])
    def redeliver_selected(self, request, queryset):
        for delivery in queryset.select_related("endpoint"):
            services.redeliver(delivery=delivery, actor=request.user)
