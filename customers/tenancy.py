"""Tenancy, enforced in one place.

Every request carries `request.business` (the business the user is working in, picked from
their memberships) and `request.membership`. Pages read tenant data only through `scoped()`;
Django admin only through `TenantAdminMixin`, which scopes querysets, foreign-key and
many-to-many choices, list filters and autocomplete the same way. Objects of another
business therefore answer 404.
"""

import zoneinfo

from django.contrib import admin
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.http import Http404
from django.utils import timezone

from customers.models import Business, Membership, TenantModel
from customers.roles import group_name

SESSION_KEY = "business_id"


def businesses_for(user):
    return Business.objects.for_user(user).order_by("name")


def pick_business(request):
    """The business the request works in: the one chosen in the session if the user may
    use it, else their first one."""
    user = request.user
    chosen = request.session.get(SESSION_KEY)
    if user.is_superuser:
        business = Business.objects.filter(pk=chosen).first() if chosen else None
        return business or businesses_for(user).first(), None
    memberships = list(
        Membership.objects.filter(user=user).select_related("business").order_by("business__name")
    )
    # The same as businesses_for(user): the navigation's business switcher uses them.
    request.member_businesses = [membership.business for membership in memberships]
    for membership in memberships:
        if membership.business_id == chosen:
            return membership.business, membership
    if memberships:
        return memberships[0].business, memberships[0]
    return None, None


def switch_business(request, business_id):
    """Remember the chosen business in the session; refuse businesses the user may not use."""
    business = businesses_for(request.user).filter(pk=business_id).first()
    if business is None:
        raise Http404("No such business.")
    request.session[SESSION_KEY] = business.pk
    return business


def scoped(request, queryset_or_model):
    """The rows of the request's current business. Raises 404 for users with no business."""
    queryset = getattr(queryset_or_model, "_default_manager", queryset_or_model).all()
    if request.business is None:
        raise Http404("You are not a member of any business.")
    if queryset.model is Business:
        return queryset.filter(pk=request.business.pk)
    return queryset.filter(business=request.business)


def admin_scoped(request, queryset):
    """Like scoped(), but platform superusers see every business in the admin."""
    if request.user.is_superuser:
        return queryset
    if request.business is None:
        return queryset.none()
    if queryset.model is Business:
        return queryset.filter(pk=request.business.pk)
    if issubclass(queryset.model, TenantModel):
        return queryset.filter(business=request.business)
    return queryset


class CurrentBusinessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.business, request.membership = None, None
        if request.user.is_authenticated:
            request.business, request.membership = pick_business(request)
            request.user.active_membership = request.membership
        if request.business is None:
            return self.get_response(request)
        # Dates and times show in the business's own time zone.
        with timezone.override(zoneinfo.ZoneInfo(request.business.timezone)):
            return self.get_response(request)


class NoStoreMiddleware:
    """Pages show personal data: no browser or proxy may keep a copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Cache-Control", "no-store")
        return response


class MembershipRoleBackend(ModelBackend):
    """Grants the permissions of the role the user holds in the request's current business."""

    def get_all_permissions(self, user_obj, obj=None):
        """The user's own and their role's permissions in one query, where ModelBackend
        makes two; cached on the user, so once per request."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                perms = Permission.objects.all()
            else:
                perms = Permission.objects.filter(user=user_obj) | self._get_group_permissions(user_obj)
            perms = perms.values_list("content_type__app_label", "codename").order_by()
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in perms}
        return user_obj._perm_cache

    def _get_group_permissions(self, user_obj):
        membership = getattr(user_obj, "active_membership", None)
        if membership is None:
            return Permission.objects.none()
        return Permission.objects.filter(group__name=group_name(membership.role))


class TenantAdminMixin:
    """Scopes a ModelAdmin to the request's business. Tenant-owned models get their
    `business` from the request; only superusers see or set it."""

    def get_queryset(self, request):
        return admin_scoped(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs.setdefault("queryset", admin_scoped(request, db_field.related_model._default_manager.all()))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("queryset", admin_scoped(request, db_field.related_model._default_manager.all()))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_list_filter(self, request):
        # Related filters list only the values present in the scoped queryset.
        filters = []
        for item in super().get_list_filter(request):
            field = self.model._meta.get_field(item) if isinstance(item, str) and "__" not in item else None
            if field is not None and field.is_relation:
                item = (item, admin.RelatedOnlyFieldListFilter)
            filters.append(item)
        return filters

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if issubclass(self.model, TenantModel) and not request.user.is_superuser:
            exclude.append("business")
        return exclude

    def save_model(self, request, obj, form, change):
        if isinstance(obj, TenantModel) and not obj.business_id:
            obj.business = request.business
        super().save_model(request, obj, form, change)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404(f"No {opts.verbose_name} with ID {object_id}.")
