"""Customers › Import and Export: upload, dry run, confirm, job pages and downloads."""

import csv
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from customers import forms, services
from customers.bulk import columns, exports
from customers.models import ExportJob, ImportJob
from customers.signals import LIST_EXPORTED, send_pii_accessed
from customers.tenancy import scoped
from customers.views.jobs import JobEndpoints
from customers.views.permissions import require_perm

IMPORT_PERMISSIONS = {"customers": "customers.import_customer", "orders": "customers.import_order"}
EXPORT_PERMISSIONS = {"customers": "customers.export_customer", "orders": "customers.export_order"}
RECENT_JOBS = 10
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def require_any(request, permissions):
    if not any(request.user.has_perm(permission) for permission in permissions):
        raise PermissionDenied


def import_upload(request):
    require_any(request, IMPORT_PERMISSIONS.values())
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    if form.is_valid():
        require_perm(request, IMPORT_PERMISSIONS[form.cleaned_data["kind"]])
        try:
            job = services.start_import(
                business=request.business,
                actor=request.user,
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
                encoding=form.cleaned_data["encoding"],
                valid_only=form.cleaned_data["valid_only"],
            )
        except ValidationError as error:
            form.add_error("file", error.message_dict.get("file", error.messages))
        else:
            return redirect("customers:import_job", pk=job.pk)
    jobs = scoped(request, ImportJob).select_related("actor")[:RECENT_JOBS]
    limits = {
        "megabytes": settings.IMPORT_MAX_FILE_BYTES // (1024 * 1024),
        "rows": settings.IMPORT_MAX_ROWS,
        "sync_rows": settings.IMPORT_SYNC_MAX_ROWS,
    }
    return render(request, "customers/import.html", {"form": form, "jobs": jobs, "limits": limits})


def import_template(request, kind):
    if kind not in IMPORT_PERMISSIONS:
        raise Http404("No such template.")
    require_perm(request, IMPORT_PERMISSIONS[kind])
    response = HttpResponse(content_type=CONTENT_TYPES["csv"])
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    response.write("\ufeff")
    csv.writer(response).writerow(columns.TEMPLATE_COLUMNS[kind])
    return response


def import_job_for(request, pk):
    job = get_object_or_404(scoped(request, ImportJob), pk=pk)
    require_perm(request, IMPORT_PERMISSIONS[job.kind])
    return job


import_jobs = JobEndpoints(
    namespace="customers",
    name="import_job",
    job_for=import_job_for,
    page=lambda job: reverse("customers:import_job", args=[job.pk]),
)


def import_job(request, pk):
    job = import_job_for(request, pk)
    context = {"job": job, "import_file_days": settings.IMPORT_FILE_DAYS, **import_jobs.urls_for(job)}
    return render(request, "customers/import_job.html", context)


@require_POST
def import_confirm(request, pk):
    job = import_job_for(request, pk)
    try:
        services.confirm_import(
            job=job, actor=request.user, valid_rows_only=request.POST.get("valid_rows_only") == "1"
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("customers:import_job", pk=job.pk)


def import_rejected_rows(request, pk):
    job = import_job_for(request, pk)
    if not job.error_report:
        raise Http404("This import has no rejected rows.")
    name = f"rejected-{job.original_name.rsplit('.', 1)[0]}.csv"
    return FileResponse(job.error_report.open("rb"), as_attachment=True, filename=name)


@require_POST
def export(request):
    """The customer list as filtered by the query string, or its orders: at once when small,
    else written by a background job."""
    kind = request.POST.get("kind", "customers")
    file_format = request.POST.get("format", "csv")
    if kind not in EXPORT_PERMISSIONS or file_format not in CONTENT_TYPES:
        raise Http404("No such export.")
    require_perm(request, EXPORT_PERMISSIONS[kind])
    if request.business is None:
        raise Http404("You are not a member of any business.")
    try:
        queryset = exports.queryset_for(request.business, kind, request.GET)
    except ValidationError:
        messages.error(request, "Correct the filters to export the list.")
        return redirect(f"{reverse('customers:list')}?{request.GET.urlencode()}")
    if queryset.count() > settings.EXPORT_SYNC_MAX_ROWS:
        job = services.request_export(
            business=request.business,
            actor=request.user,
            kind=kind,
            file_format=file_format,
            params=request.GET,
        )
        return redirect("customers:export_job", pk=job.pk)
    send_pii_accessed(request, customer_ids=[], what=LIST_EXPORTED, query=request.GET.urlencode())
    rows = exports.export_rows(kind, queryset)
    filename = exports.export_filename(kind, file_format)
    if file_format == "csv":
        lines = exports.in_time_zone(request.business.timezone, exports.csv_lines(rows))
        response = StreamingHttpResponse(lines, content_type=CONTENT_TYPES["csv"])
    else:
        response = HttpResponse(content_type=CONTENT_TYPES["xlsx"])
        exports.write_xlsx(rows, response)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def export_job_for(request, pk):
    # An export file holds many customers' personal data: only the person who asked for it sees it.
    job = get_object_or_404(scoped(request, ExportJob), pk=pk, actor=request.user)
    require_perm(request, EXPORT_PERMISSIONS[job.kind])
    return job


export_jobs = JobEndpoints(
    namespace="customers",
    name="export_job",
    job_for=export_job_for,
    page=lambda job: reverse("customers:export_job", args=[job.pk]),
)


def export_job(request, pk):
    job = export_job_for(request, pk)
    return render(request, "customers/export_job.html", {"job": job, **export_jobs.urls_for(job)})


def export_download(request, pk):
    job = export_job_for(request, pk)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise Http404("This export has no file (yet, or any more).")
    filename = exports.export_filename(job.kind, job.format)
    # The file names no customers one by one; the entry keeps the filters that chose them.
    query = urlencode(job.filters, doseq=True)
    send_pii_accessed(request, customer_ids=[], what=LIST_EXPORTED, query=query)
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=filename)
