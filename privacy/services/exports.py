"""Data exports: requested (by compliance, or by an owner and then approved by compliance, or
through the API), built into a ZIP by a job, downloaded over a short-lived link, expired."""

import io
import json
import logging
import zipfile
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from customers.jobs import claim_job, finish_job
from customers.models import Activity, Membership
from customers.roles import ROLE_PERMISSIONS
from customers.services import emit_event, log_activity
from customers.services.jobs import UNEXPECTED_JOB_ERROR
from privacy import report
from privacy.models import AccessLog, DataExport, DataExportJob, Regulation, legal_due_date
from privacy.queries import business_aggregates, expired_exports
from privacy.queries.export_sections import BASIC_KEYS, sections_for
from privacy.services.access_log import record_access

logger = logging.getLogger(__name__)

RUN_PRIVACY_ACTIONS = "customers.run_privacy_actions"


def may_run_privacy_actions(actor, business_id):
    """Whether `actor` is a compliance officer (or platform superuser) of that business. Read
    from the membership, not `has_perm`: services run outside requests too (tasks, seed_demo),
    where no business is picked for the user."""
    if actor is None:
        return False
    if actor.is_superuser:
        return True
    role = (
        Membership.objects.filter(user=actor, business_id=business_id).values_list("role", flat=True).first()
    )
    return role is not None and RUN_PRIVACY_ACTIONS in ROLE_PERMISSIONS[Membership.Role(role)]


def clean_request(*, type, reason, regulation, subject_requested_at):
    errors = {}
    if type not in DataExport.Type.values:
        errors["type"] = [f"Choose one of {', '.join(DataExport.Type.values)}."]
    if not (reason or "").strip():
        errors["reason"] = ["Say why the data is exported (e.g. the person's request of 2026-11-02)."]
    if regulation not in Regulation.values:
        errors["regulation"] = [f"Choose one of {', '.join(Regulation.values)}."]
    if subject_requested_at and subject_requested_at > timezone.now():
        errors["subject_requested_at"] = ["The person's request cannot be in the future."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def request_data_export(
    *, customer, type, reason, actor, regulation=Regulation.GDPR, subject_requested_at=None
):
    """An export of one customer. A compliance officer's (or the API key's, `actor` None)
    starts at once; anyone else's waits for a compliance officer's approval."""
    clean_request(type=type, reason=reason, regulation=regulation, subject_requested_at=subject_requested_at)
    subject_requested_at = subject_requested_at or timezone.now()
    needs_approval = actor is not None and not may_run_privacy_actions(actor, customer.business_id)
    export = DataExport.objects.create(
        business_id=customer.business_id,
        customer=customer,
        type=type,
        regulation=regulation,
        reason=reason.strip(),
        requested_by=actor,
        subject_requested_at=subject_requested_at,
        due_at=legal_due_date(regulation, subject_requested_at),
        needs_approval=needs_approval,
    )
    log_activity(customer, Activity.Kind.DATA_EXPORTED, actor, export_id=export.pk, type=type)
    emit_export_event(export, "requested")
    if not needs_approval:
        start_build(export, actor)
    return export


@transaction.atomic
def approve_data_export(*, export, actor):
    if not may_run_privacy_actions(actor, export.business_id):
        raise PermissionDenied
    export = DataExport.objects.select_for_update().get(pk=export.pk)
    if not export.awaits_approval:
        raise ValidationError("This export does not wait for an approval.")
    export.approved_by, export.approved_at = actor, timezone.now()
    export.save(update_fields=["approved_by", "approved_at"])
    start_build(export, actor)
    return export


def start_build(export, actor):
    job = DataExportJob.objects.create(business_id=export.business_id, actor=actor, export=export)
    queue_build(job)
    return job


def queue_build(job):
    """The job kind's start (retry calls it again)."""
    DataExport.objects.filter(pk=job.export_id).update(status=DataExport.Status.PENDING)
    transaction.on_commit(lambda: async_task("privacy.tasks.build_data_export", job.pk, group="privacy"))


def run_data_export(job_id):
    """Build the ZIP of a DataExportJob. Safe to call twice."""
    if not claim_job(job_id):
        return None
    job = DataExportJob.objects.select_related("export__customer__business").get(pk=job_id)
    export = job.export
    DataExport.objects.filter(pk=export.pk).update(status=DataExport.Status.PROCESSING)
    try:
        content = build_zip(export)
    except Exception:
        logger.exception("Data export %s failed", export.pk)
        with transaction.atomic():
            DataExport.objects.filter(pk=export.pk).update(status=DataExport.Status.FAILED)
            emit_export_event(export, "failed")
        return finish_job(job, failure=UNEXPECTED_JOB_ERROR)
    completed = timezone.now()
    with transaction.atomic():
        export.file.save(f"export-{export.pk}-{job.pk}.zip", ContentFile(content), save=False)
        export.status, export.completed_at = DataExport.Status.COMPLETED, completed
        export.expires_at = completed + timedelta(days=DataExport.FILE_DAYS)
        export.save(update_fields=["file", "status", "completed_at", "expires_at"])
        emit_export_event(export, "completed")
        job.total_rows = job.rows_done = 1
        return finish_job(job)


def emit_export_event(export, what):
    """customers.data_export.requested / completed / failed: ids and the kind, never the file."""
    emit_event(
        business_id=export.business_id,
        type=f"customers.data_export.{what}",
        data={
            "export_id": export.pk,
            "customer_id": export.customer_id,
            "type": export.type,
            "regulation": export.regulation,
        },
        customer_id=export.customer_id,
    )


def export_data(export):
    """data.json of an export, by its type."""
    customer = export.customer
    if export.type == DataExport.Type.BUSINESS_ANALYTICS:
        return {"aggregates": business_aggregates(customer)}
    if export.type == DataExport.Type.GDPR_BASIC:
        return sections_for(customer, BASIC_KEYS)
    return sections_for(customer)


def build_zip(export):
    data = export_data(export)
    meta = {
        "export_id": export.pk,
        "type": export.type,
        "business": export.customer.business.name,
        "generated_at": timezone.now(),
    }
    buffer = io.BytesIO()
    # No indent: json's C encoder only serves compact output (indenting is 5x slower at 10,000 orders).
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("data.json", json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False))
        archive.writestr("report.html", report.render(data, meta))
        archive.writestr("README.txt", report.README.format(**meta))
    return buffer.getvalue()


@transaction.atomic
def record_download(*, export, actor=None, api_key=None, address=None):
    """Every download of an export is in the access log."""
    if export.status != DataExport.Status.COMPLETED or not export.file:
        raise ValidationError("This export has no file (yet, or any more).")
    return record_access(
        business=export.business,
        actor=actor,
        api_key=api_key,
        customer_ids=[export.customer_id],
        what=AccessLog.What.DATA_EXPORT_DOWNLOADED,
        query=f"export={export.pk}",
        address=address,
    )


def expire_data_exports(at=None):
    """Delete the files of exports completed FILE_DAYS ago (the schedule runs this nightly)."""
    expired = 0
    for export in expired_exports(at):
        expire_export(export)
        expired += 1
    return expired


def expire_export(export):
    if export.file:
        export.file.delete(save=False)
    export.file = ""
    export.status = DataExport.Status.EXPIRED
    export.save(update_fields=["file", "status"])
