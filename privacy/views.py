"""The compliance pages: the queue of open requests with their due dates, approvals, the
exports and their downloads, the access log; and the profile panel's requests."""

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from customers.models import Customer
from customers.queries import page_of
from customers.replicas import reads_from_replica
from customers.signals import LIST_EXPORTED, send_pii_accessed
from customers.tenancy import scoped
from privacy import queries, services
from privacy.forms import (
    AccessLogFilter,
    ExportRequestForm,
    RejectForm,
    RetentionRuleForm,
    SubjectRequestForm,
)
from privacy.models import AnonymizationRequest, DataExport, RetentionRule
from segments import queries as segment_queries

use_privacy = permission_required("customers.use_privacy", raise_exception=True)
run_privacy_actions = permission_required("customers.run_privacy_actions", raise_exception=True)
request_export_permission = permission_required("customers.request_export", raise_exception=True)
REQUEST_ANONYMIZATION = "privacy.add_anonymizationrequest"
DOWNLOAD_SALT = "privacy.export-download"


def profile_panel(customer, user):
    """The context of the profile's privacy panel (templates/privacy/profile_panel.html)."""
    may_export = user.has_perm("customers.request_export")
    may_anonymize = user.has_perm(REQUEST_ANONYMIZATION)
    if not (may_export or may_anonymize or customer.anonymized_at):
        return None
    return {
        **queries.customer_requests(customer),
        "export_form": ExportRequestForm(auto_id="export_%s") if may_export else None,
        "anonymize_form": SubjectRequestForm(auto_id="anonymize_%s")
        if may_anonymize and not customer.anonymized_at
        else None,
        "may_download": user.has_perm("customers.run_privacy_actions"),
    }


def subject_time(form):
    day = form.cleaned_data["subject_requested_on"]
    if day is None:
        return None
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def form_errors(form):
    return " ".join(
        f"{form[f].label if f in form.fields else ''}: {' '.join(e)}" for f, e in form.errors.items()
    )


def to_profile(customer):
    return redirect("customers:detail", pk=customer.pk)


@use_privacy
def index(request):
    business = request.business
    compliance = request.user.has_perm("customers.run_privacy_actions")
    rule = RetentionRule.objects.filter(business=business).first()
    context = {
        "queue": queries.open_requests(business) if compliance else [],
        "exports": queries.recent_exports(business),
        "decided": queries.recent_anonymizations(business) if compliance else [],
        "compliance": compliance,
        "reject_form": RejectForm(),
        "retention_form": RetentionRuleForm(initial={"inactive_years": rule and rule.inactive_years}),
        "file_days": DataExport.FILE_DAYS,
        "restore_days": settings.SOFT_DELETE_RESTORE_DAYS,
    }
    return render(request, "privacy/index.html", context)


@run_privacy_actions
@reads_from_replica
def access_log(request):
    form = AccessLogFilter(request.GET or None)
    filters = {}
    if form.is_valid():
        data = form.cleaned_data
        user_id = None
        if data["user"]:
            user_id = (
                get_user_model()
                .objects.filter(username=data["user"], memberships__business=request.business)
                .values_list("pk", flat=True)
                .first()
            ) or -1
        filters = {
            "customer_id": data["customer"],
            "user_id": user_id,
            "since": data["since"],
            "until": data["until"],
        }
    entries = queries.access_log(request.business, **filters)
    page = page_of(entries, request.GET.get("page"), queries.ACCESS_LOG_PER_PAGE)
    return render(request, "privacy/access_log.html", {"form": form, "page_obj": page})


@require_POST
@request_export_permission
def request_export(request, pk):
    customer = get_object_or_404(scoped(request, Customer), pk=pk)
    form = ExportRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return to_profile(customer)
    try:
        export = services.request_data_export(
            customer=customer,
            type=form.cleaned_data["type"],
            regulation=form.cleaned_data["regulation"],
            reason=form.cleaned_data["reason"],
            subject_requested_at=subject_time(form),
            actor=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        waits = " It waits for a compliance officer's approval." if export.needs_approval else ""
        messages.success(request, f"Export #{export.pk} requested, due {export.due_at:%Y-%m-%d}.{waits}")
    return to_profile(customer)


@require_POST
@run_privacy_actions
def approve_export(request, pk):
    export = get_object_or_404(scoped(request, DataExport), pk=pk)
    try:
        services.approve_data_export(export=export, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Export #{export.pk} approved: it is being built.")
    return redirect("privacy:index")


@run_privacy_actions
def export_download(request, pk):
    """A link that works for LINK_SECONDS, for this user only."""
    export = get_object_or_404(scoped(request, DataExport), pk=pk, status=DataExport.Status.COMPLETED)
    token = signing.dumps({"export": export.pk, "user": request.user.pk}, salt=DOWNLOAD_SALT)
    return redirect("privacy:export_file", token=token)


@run_privacy_actions
def export_file(request, token):
    try:
        claim = signing.loads(token, salt=DOWNLOAD_SALT, max_age=DataExport.LINK_SECONDS)
    except signing.BadSignature:
        raise Http404("This download link is not valid or has expired: ask for a new one.") from None
    if claim.get("user") != request.user.pk:
        raise Http404("This download link is someone else's.")
    export = get_object_or_404(scoped(request, DataExport), pk=claim.get("export"))
    try:
        services.record_download(export=export, actor=request.user, address=request.META.get("REMOTE_ADDR"))
    except ValidationError:
        raise Http404("This export has no file (yet, or any more).") from None
    return FileResponse(export.file.open("rb"), as_attachment=True, filename=f"data-export-{export.pk}.zip")


@require_POST
def request_anonymization(request, pk):
    customer = get_object_or_404(scoped(request, Customer), pk=pk)
    if not request.user.has_perm(REQUEST_ANONYMIZATION):
        raise PermissionDenied
    form = SubjectRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return to_profile(customer)
    try:
        anonymization = services.request_anonymization(
            customer=customer,
            reason=form.cleaned_data["reason"],
            regulation=form.cleaned_data["regulation"],
            subject_requested_at=subject_time(form),
            actor=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"Anonymization requested (#{anonymization.pk}, due {anonymization.due_at:%Y-%m-%d}): "
            "another compliance officer approves it on the privacy page.",
        )
    return to_profile(customer)


@require_POST
@run_privacy_actions
def approve_anonymization(request, pk):
    anonymization = get_object_or_404(scoped(request, AnonymizationRequest), pk=pk)
    try:
        services.approve_anonymization(request=anonymization, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Anonymization #{anonymization.pk} approved: it runs now.")
    return redirect("privacy:index")


@require_POST
@run_privacy_actions
def reject_anonymization(request, pk):
    anonymization = get_object_or_404(scoped(request, AnonymizationRequest), pk=pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return redirect("privacy:index")
    try:
        services.reject_anonymization(
            request=anonymization, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Anonymization #{anonymization.pk} rejected.")
    return redirect("privacy:index")


@require_POST
@run_privacy_actions
def retention_rule(request):
    form = RetentionRuleForm(request.POST)
    if form.is_valid():
        services.set_retention_rule(
            business=request.business, inactive_years=form.cleaned_data["inactive_years"], actor=request.user
        )
        messages.success(request, "Retention rule saved.")
    else:
        messages.error(request, form_errors(form))
    return redirect(reverse("privacy:index") + "#retention")


@permission_required(["customers.use_segments", "customers.export_customer"], raise_exception=True)
def segment_audience(request, pk):
    """The segment page's download: who of its members may be contacted on a channel for a
    purpose, and from when, as CSV (streamed; one access-log entry for the download)."""
    segment = segment_queries.segment_of(request.business, pk)
    if segment is None:
        raise Http404("No such segment.")
    channel, purpose = request.GET.get("channel"), request.GET.get("purpose")
    try:
        queries.clean_audience_request(channel, purpose)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("segments:detail", pk=segment.pk)
    send_pii_accessed(
        request,
        customer_ids=[],
        what=LIST_EXPORTED,
        query=f"segment {segment.pk} audience: {channel} for {purpose}",
    )
    rows = queries.write_audience_csv(
        segment_queries.member_customers(segment),
        channel=channel,
        purpose=purpose,
        business=request.business,
        now=timezone.now(),
    )
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="segment-{segment.pk}-{channel}-{purpose}.csv"'
    return response
