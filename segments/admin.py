"""Django admin of segments, through the same services as the pages: creating, changing and
deleting a segment, and recalculating the selected ones."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from customers.tenancy import TenantAdminMixin
from segments import services
from segments.models import Segment
from segments.rules.forms import RulesField
from segments.services.segments import NAME_TAKEN, clean_segment, name_taken


class SegmentAdminForm(forms.ModelForm):
    rules = RulesField(required=False)

    class Meta:
        model = Segment
        fields = ["name", "description", "kind", "rules", "active"]

    def clean(self):
        """The service's own checks, as form errors (so that save_model cannot fail)."""
        data = super().clean()
        kind = self.instance.kind if self.instance.pk else data.get("kind")
        try:
            data["name"], data["description"], data["rules"] = clean_segment(
                name=data.get("name"), description=data.get("description"), kind=kind, rules=data.get("rules")
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
            return data
        business = self.instance.business if self.instance.pk else self.business
        if business is not None and name_taken(business, data["name"], exclude_pk=self.instance.pk):
            self.add_error("name", NAME_TAKEN)
        return data


@admin.register(Segment)
class SegmentAdmin(TenantAdminMixin, admin.ModelAdmin):
    form = SegmentAdminForm
    list_display = ["name", "kind", "member_count", "active", "last_recalculated_at"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "description"]
    readonly_fields = ["member_count", "last_recalculated_at", "created_by", "created_at"]
    actions = ["recalculate_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(deleted_at__isnull=True)

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "kind"] if obj else self.readonly_fields

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.business = request.business
        return form

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.update_segment(
                segment=obj,
                actor=request.user,
                name=data["name"],
                description=data["description"],
                rules=data["rules"] if obj.kind == Segment.Kind.DYNAMIC else None,
                active=data["active"],
            )
            obj.refresh_from_db()
            return
        segment, _ = services.create_segment(
            business=obj.business if obj.business_id else request.business,
            actor=request.user,
            name=data["name"],
            description=data["description"],
            kind=data["kind"],
            rules=data["rules"],
        )
        obj.pk = segment.pk

    def delete_model(self, request, obj):
        services.delete_segment(segment=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for segment in queryset:
            services.delete_segment(segment=segment, actor=request.user)

    @admin.action(description="Recalculate the selected dynamic segments")
    def recalculate_selected(self, request, queryset):
        dynamic = list(queryset.filter(kind=Segment.Kind.DYNAMIC))
        for segment in dynamic:
            services.request_recalculation(segment=segment, actor=request.user, reason="Admin")
        messages.success(request, f"{len(dynamic)} recalculations started.")
