"""The preferences pages: the profile's panel and its edit, a customer's whole consent
history, the consent history search of compliance and the business's sign-up opt-in."""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from customers.models import Customer
from customers.queries import page_of
from customers.replicas import reads_from_replica
from customers.tenancy import scoped
from customers.views.permissions import require_perm
from privacy import queries, services
from privacy.models import ConsentEvent
from privacy.preference_forms import ConsentSearchForm, PreferencesForm, PrivacySettingsForm

EDIT_PREFERENCES = "privacy.change_communicationpreference"
SEARCH_PER_PAGE = 50


def profile_panel(customer, user):
    """The context of the profile's preferences panel (templates/privacy/preferences_panel.html):
    two queries, the record and the last consent events."""
    if not user.has_perm("privacy.view_communicationpreference"):
        return None
    record = queries.preferences_of(customer)
    consents, more = queries.recent_consents(customer)
    editable = user.has_perm(EDIT_PREFERENCES) and not customer.deleted_at
    return {
        "preferences": record,
        "is_default": record.pk is None,
        "timezone": queries.effective_timezone(record, customer, customer.business),
        "consents": consents,
        "more_consents": more,
        "form": PreferencesForm(record=record) if editable else None,
    }


def edit_preferences(request, pk):
    customer = get_object_or_404(scoped(request, Customer).live().select_related("business"), pk=pk)
    require_perm(request, EDIT_PREFERENCES)
    record = queries.preferences_of(customer)
    form = PreferencesForm(request.POST or None, record=record)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_preferences(
                customer=customer,
                changes=form.changes(),
                source=form.cleaned_data["source"],
                evidence=form.cleaned_data["evidence"],
                actor=request.user,
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, "Communication preferences saved.")
            return redirect("customers:detail", pk=customer.pk)
    return render(request, "privacy/preferences_edit.html", {"customer": customer, "form": form})


def customer_consents(request, pk):
    customer = get_object_or_404(scoped(request, Customer), pk=pk)
    require_perm(request, "privacy.view_consentevent")
    page = queries.consents_page(customer, request.GET.get("page"))
    return render(request, "privacy/preferences_consents.html", {"customer": customer, "page_obj": page})


def start_of(day):
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min)) if day else None


@reads_from_replica
def consent_search(request):
    """Compliance's search of the business's consent history."""
    require_perm(request, "customers.use_privacy")
    require_perm(request, "privacy.view_consentevent")
    form = ConsentSearchForm(request.GET or None)
    page = None
    if form.is_valid():
        data = form.cleaned_data
        events = queries.search_consents(
            request.business,
            query=data["q"],
            purpose=data["purpose"],
            channel=data["channel"],
            source=data["source"],
            since=start_of(data["since"]),
            until=start_of(data["until"] + dt.timedelta(days=1)) if data["until"] else None,
        )
        page = page_of(events, request.GET.get("page"), SEARCH_PER_PAGE)
    elif not request.GET:
        events = queries.search_consents(request.business)
        page = page_of(events, 1, SEARCH_PER_PAGE)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page_obj": page, "query": query.urlencode(), "sources": ConsentEvent.Source}
    return render(request, "privacy/preferences_search.html", context)


def privacy_settings(request):
    """The owner's sign-up opt-in: which marketing channels customers agree to when they sign up."""
    require_perm(request, "privacy.change_privacysettings")
    settings = queries.privacy_settings_of(request.business)
    form = PrivacySettingsForm(request.POST or None, instance=settings)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_privacy_settings(
                business=request.business, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Privacy settings saved.")
            return redirect("privacy:settings")
    return render(request, "privacy/preferences_settings.html", {"form": form})
