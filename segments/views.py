"""The segments pages: the list with sizes over time, the form with the rule builder and its
live preview, a segment's page (members, history, recalculation, export, hand-made
membership), and the profile's panel. Thin: the services and queries do the work."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from customers import queries as customer_queries
from customers.replicas import reads_from_replica
from customers.tenancy import scoped
from customers.views.jobs import JobEndpoints
from customers.views.permissions import require_perm
from segments import queries, rules, services
from segments.forms import PhonesFileForm, SegmentForm
from segments.models import Segment, SegmentRecalculation

use_segments = permission_required("customers.use_segments", raise_exception=True)
PREVIEW_SAMPLE = 20


def profile_panel(customer, user):
    """The context of the profile's segments panel: one query."""
    if not user.has_perm("customers.use_segments"):
        return None
    return {"memberships": queries.segments_of_customer(customer)}


def segment_for(request, pk):
    return get_object_or_404(scoped(request, Segment).live(), pk=pk)


@use_segments
@reads_from_replica
def index(request):
    services.ensure_presets(business=request.business, actor=request.user)
    segments = list(queries.live_segments(request.business))
    sizes = queries.size_history(segments)
    running = queries.running_recalculations(segments)
    rows = [
        {
            "segment": segment,
            "points": queries.sparkline_points(sizes[segment.pk], segment.member_count),
            "days": len(sizes[segment.pk]) + 1,
            "running": running.get(segment.pk),
        }
        for segment in segments
    ]
    return render(request, "segments/index.html", {"rows": rows})


@use_segments
def create(request):
    form = SegmentForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "preview" in request.POST:
            preview = preview_of(request.business, form, data["rules"])
        else:
            try:
                segment, _ = services.create_segment(
                    business=request.business,
                    actor=request.user,
                    name=data["name"],
                    description=data["description"],
                    kind=data["kind"],
                    rules=data["rules"],
                )
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, f"Segment “{segment.name}” saved.")
                return redirect("segments:detail", pk=segment.pk)
    return render(request, "segments/form.html", {"form": form, "preview": preview, "segment": None})


@use_segments
def edit(request, pk):
    segment = segment_for(request, pk)
    form = SegmentForm(request.POST or None, segment=segment)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "preview" in request.POST:
            preview = preview_of(request.business, form, data["rules"])
        else:
            try:
                services.update_segment(
                    segment=segment,
                    actor=request.user,
                    name=data["name"],
                    description=data["description"],
                    rules=data["rules"] if not segment.is_static else None,
                    active=data["active"],
                )
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, f"Segment “{data['name']}” saved.")
                return redirect("segments:detail", pk=segment.pk)
    return render(request, "segments/form.html", {"form": form, "preview": preview, "segment": segment})


def preview_of(business, form, tree):
    """The count and first members of rules being edited, or None with the form's errors set."""
    try:
        result = rules.preview(tree, business=business, sample=PREVIEW_SAMPLE)
    except rules.RuleError as error:
        form.add_error("rules", list(error.messages))
        return None
    except rules.PreviewTooSlow as error:
        form.add_error("rules", str(error))
        return None
    return {"count": result["count"], "sample": queries.customers_by_ids(business, result["sample"])}


@use_segments
@require_POST
@reads_from_replica
def preview(request):
    """The form's live preview: the count and first members of the posted rules, as an HTML
    fragment (400 with the errors)."""
    form = SegmentForm(request.POST)
    result = None
    if form.is_valid():
        result = preview_of(request.business, form, form.cleaned_data["rules"])
    status = 200 if result is not None else 400
    return render(request, "segments/preview.html", {"preview": result, "form": form}, status=status)


@use_segments
@reads_from_replica
def detail(request, pk):
    segment = segment_for(request, pk)
    members = customer_queries.customer_list(queries.member_customers(segment).live())
    page = customer_queries.counted_page(
        members, request.GET.get("page"), customer_queries.CUSTOMERS_PER_PAGE
    )
    latest = queries.latest_recalculation(segment)
    context = {
        "segment": segment,
        "page_obj": page,
        "history": queries.history(segment),
        "latest": latest,
        "running": services.running_recalculation(segment),
        "phones_form": PhonesFileForm(),
        "member_query": f"segment={segment.pk}",
        "rules_summary": rules.summary(segment.rules) if segment.rules else "",
        **(recalculation_jobs.urls_for(latest) if latest else {}),
    }
    return render(request, "segments/detail.html", context)


@use_segments
@require_POST
def delete(request, pk):
    segment = segment_for(request, pk)
    services.delete_segment(segment=segment, actor=request.user)
    messages.success(request, f"Segment “{segment.name}” deleted.")
    return redirect("segments:index")


@use_segments
@require_POST
def recalculate(request, pk):
    segment = segment_for(request, pk)
    if segment.is_static:
        messages.error(request, "A static segment has no rules to recalculate.")
    elif services.running_recalculation(segment):
        messages.info(request, "A recalculation of this segment is already under way.")
    else:
        services.request_recalculation(segment=segment, actor=request.user)
        messages.success(request, "Recalculation started.")
    return redirect("segments:detail", pk=segment.pk)


@use_segments
@require_POST
def add_phones(request, pk):
    """Add the customers of a CSV of phones to a static segment; the bad rows are listed."""
    segment = segment_for(request, pk)
    form = PhonesFileForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a CSV file of phones.")
        return redirect("segments:detail", pk=segment.pk)
    try:
        outcome, errors = services.add_from_phones_file(
            segment=segment, file=form.cleaned_data["file"], actor=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("segments:detail", pk=segment.pk)
    messages.success(request, f"{outcome.changed:,} customers added.")
    for number, message in list(errors.items())[:20]:
        messages.warning(request, f"Row {number}: {message}")
    if len(errors) > 20:
        messages.warning(request, f"And {len(errors) - 20:,} more rows with problems.")
    return redirect("segments:detail", pk=segment.pk)


def recalculation_for(request, pk):
    require_perm(request, "customers.use_segments")
    return get_object_or_404(scoped(request, SegmentRecalculation), pk=pk)


recalculation_jobs = JobEndpoints(
    namespace="segments",
    name="job",
    job_for=recalculation_for,
    page=lambda job: reverse("segments:detail", args=[job.segment_id]),
)
