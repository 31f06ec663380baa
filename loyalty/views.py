"""The loyalty pages: tier configuration with its what-if, audit history, distribution and
recalculation jobs; overrides of one customer (from the profile) or many (from the list);
the points rule, a customer's points ledger and adjustments of their points."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from customers.filters import list_filter
from customers.models import Business, Customer
from customers.replicas import reads_from_replica
from customers.tenancy import scoped
from customers.views.jobs import JobEndpoints
from customers.views.permissions import require_perm
from loyalty import queries, services, tiers
from loyalty.forms import AdjustPointsForm, OverrideForm, PointsRuleForm, TierConfigurationForm
from loyalty.models import TierRecalculation

use_loyalty = permission_required("customers.use_loyalty", raise_exception=True)


def profile_panel(customer, user):
    """The context of the profile's loyalty panel (templates/loyalty/profile_panel.html)."""
    return {
        "tier": queries.tier_panel(customer),
        "clv": queries.clv_status(customer),
        "override_form": OverrideForm()
        if user.has_perm("customers.use_loyalty") and not customer.deleted_at
        else None,
        "points": queries.recent_entries(customer),
        "adjust_form": AdjustPointsForm()
        if user.has_perm("loyalty.adjust_points") and not customer.deleted_at
        else None,
    }


@use_loyalty
def index(request):
    business = request.business
    configuration = queries.configuration_of(business)
    form = TierConfigurationForm(request.POST or None, configuration=configuration)
    preview = None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            preview = preview_of(business, form)
        else:
            try:
                _, job = services.configure_tiers(
                    business=business,
                    thresholds=form.thresholds(),
                    grace_days=form.cleaned_data["grace_days"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, "Tier configuration saved: every customer is being recalculated.")
                return redirect("loyalty:index")
    recalculations = queries.recent_recalculations(business)
    latest = recalculations[0] if recalculations else None
    distribution = queries.tier_distribution(business)
    context = {
        "form": form,
        "preview": preview,
        "audits": queries.audits(business)[0][:20],
        "distribution": distribution_rows(distribution),
        "recalculations": recalculations,
        "latest": latest,
        "points_rule_form": points_rule_form(business),
        **(recalculation_jobs.urls_for(latest) if latest else {}),
    }
    return render(request, "loyalty/index.html", context)


def preview_of(business, form):
    """The what-if of the form's thresholds, or None with the form's errors set."""
    try:
        thresholds = tiers.clean_thresholds(form.thresholds())
    except ValidationError as error:
        form.add_service_errors(error)
        return None
    return queries.what_if(business, thresholds=thresholds, grace_days=form.cleaned_data["grace_days"])


def distribution_rows(counts):
    total = sum(counts.values()) or 1
    return [
        {"tier": tier, "customers": n, "percent": round(100 * n / total, 1)} for tier, n in counts.items()
    ]


@use_loyalty
@require_POST
def what_if(request):
    """The page's live preview: the what-if of the thresholds being typed, as JSON."""
    form = TierConfigurationForm(request.POST, configuration=queries.configuration_of(request.business))
    preview = preview_of(request.business, form) if form.is_valid() else None
    if preview is None:
        return JsonResponse(
            {"errors": {field: list(errors) for field, errors in form.errors.items()}}, status=400
        )
    return JsonResponse(preview)


@use_loyalty
@require_POST
def recalculate(request):
    services.request_recalculation(business=request.business, actor=request.user, reason="On demand")
    messages.success(request, "Recalculation of every customer's tier started.")
    return redirect("loyalty:index")


def recalculation_for(request, pk):
    require_perm(request, "customers.use_loyalty")
    return get_object_or_404(scoped(request, TierRecalculation), pk=pk)


recalculation_jobs = JobEndpoints(
    namespace="loyalty",
    name="job",
    job_for=recalculation_for,
    page=lambda job: reverse("loyalty:index"),
)


@use_loyalty
@require_POST
def override(request, pk):
    """The profile's override form: set a tier by hand, or remove the override."""
    customer = get_object_or_404(scoped(request, Customer).live(), pk=pk)
    try:
        if request.POST.get("remove"):
            services.remove_override(customer=customer, actor=request.user, reason="Override removed")
            messages.success(request, "Override removed: the computed tier applies.")
        else:
            form = OverrideForm(request.POST)
            if not form.is_valid():
                raise ValidationError(form.errors)
            services.override_tiers(
                business=request.business,
                customers=Customer.objects.filter(pk=customer.pk),
                actor=request.user,
                **form.cleaned_data,
            )
            messages.success(request, f"Tier set to {form.cleaned_data['tier'].title()} by hand.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("customers:detail", pk=customer.pk)


@use_loyalty
def bulk_override(request):
    """Override the tier of the customers picked on the list (`ids=1,2,3`) or of every
    customer of its current filter (the list's query string)."""
    customers = selected_customers(request)
    form = OverrideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            count = services.override_tiers(
                business=request.business, customers=customers, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, f"Tier of {count:,} customers set to {form.cleaned_data['tier'].title()}."
            )
            return redirect(f"{reverse('customers:list')}?{request.GET.urlencode()}")
    context = {"form": form, "count": customers.count(), "query": request.GET.urlencode()}
    return render(request, "loyalty/tiers_bulk_override.html", context)


def selected_customers(request):
    """The rows picked on the list (`ids=1,2,3`) or the customers of its filter."""
    customers = scoped(request, Customer).live()
    customer_filter = list_filter(request, customers)
    return customer_filter.qs if customer_filter.is_valid() else customers.none()


@permission_required("customers.use_loyalty", raise_exception=True)
@reads_from_replica
def clv(request):
    """The lifetime value model of the business: its latest fit and the predicted value per tier."""
    business = scoped(request, Business).get()
    return render(request, "loyalty/clv.html", {"business": business, **queries.clv_page(business)})


def points_rule_form(business, data=None):
    rule = queries.points_rule_of(business)
    return PointsRuleForm(
        data, initial={"points_per_unit": rule.points_per_unit, "expiry_months": rule.expiry_months}
    )


@use_loyalty
@require_POST
def points_rule(request):
    """The points rule form of /loyalty/."""
    form = points_rule_form(request.business, request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors)
        services.configure_points_rule(business=request.business, actor=request.user, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, "Points rule not saved: " + " ".join(error.messages))
    else:
        messages.success(request, "Points rule saved: it applies to orders completed from now on.")
    return redirect(f"{reverse('loyalty:index')}#points-rule")


@permission_required("loyalty.adjust_points", raise_exception=True)
@require_POST
def adjust_points(request, pk):
    """The profile's "Adjust points" form."""
    customer = get_object_or_404(scoped(request, Customer).live(), pk=pk)
    form = AdjustPointsForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors)
        entry = services.change_points(
            customer=customer, kind="adjust", actor=request.user, **form.cleaned_data
        )
    except ValidationError as error:
        messages.error(request, "Points not adjusted: " + " ".join(error.messages))
    else:
        messages.success(request, f"Points adjusted by {entry.points:+d}: the balance is {entry.balance}.")
    return redirect("customers:detail", pk=customer.pk)


@permission_required("customers.view_customer", raise_exception=True)
def customer_points(request, pk):
    """A customer's whole points ledger, page by page, with the balance after each entry."""
    customer = get_object_or_404(scoped(request, Customer), pk=pk)
    page = queries.ledger_page(customer, request.GET.get("page"))
    return render(request, "loyalty/points_ledger.html", {"customer": customer, "page_obj": page})
