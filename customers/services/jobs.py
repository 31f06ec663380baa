from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from customers import jobs
from customers.models import ExportJob, ImportJob, Job, lost_before
from customers.services.audit import log_audit

UNEXPECTED_JOB_ERROR = "An unexpected error stopped the job. Retry it; if it fails again, contact support."


def fail_stale_jobs():
    """Fail the jobs whose worker died (no heartbeat), queue again the tasks of jobs that
    waited too long in the queue (a lost task), and delete the files that hold personal
    data once their retention is over: exports after EXPORT_FILE_DAYS, uploads (with their
    rejected rows and the rows previewed) IMPORT_FILE_DAYS after they were checked or
    imported. Runs on its schedule only."""
    jobs.fail_stale_jobs()
    jobs.requeue_waiting_jobs()
    now = timezone.now()
    expired = ExportJob.objects.filter(finished_at__lt=now - timedelta(days=settings.EXPORT_FILE_DAYS))
    for job in expired.exclude(file=""):
        job.file.delete(save=False)
        ExportJob.objects.filter(pk=job.pk).update(file="")
    uploads = ImportJob.objects.filter(finished_at__lt=now - timedelta(days=settings.IMPORT_FILE_DAYS))
    for job in uploads.exclude(file=""):
        job.file.delete(save=False)
        job.error_report.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="", error_report="", preview=[])


@transaction.atomic
def cancel_job(*, job, actor):
    """Cancel a queued job at once, or ask a running one to stop at its next chunk."""
    now = timezone.now()
    queued = Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED, cancel_requested_at=None)
    if queued.update(
        status=Job.Status.CANCELLED,
        cancel_requested_at=now,
        finished_at=now,
        failure="Cancelled before it started: nothing was done.",
    ):
        log_audit(business=job.business, actor=actor, action="job.cancelled", target=job, job_id=job.pk)
        return job
    running = Job.objects.filter(
        pk=job.pk, status=Job.Status.RUNNING, cancel_requested_at=None, heartbeat_at__gte=lost_before()
    )
    if not running.update(cancel_requested_at=now):
        raise ValidationError("Only a queued or running job can be cancelled.")
    log_audit(business=job.business, actor=actor, action="job.cancel_requested", target=job, job_id=job.pk)
    return job


@transaction.atomic
def retry_job(*, job, actor):
    """Run a failed or cancelled job, or one that lost its worker, again from where its data
    stands now.
    Its kind's `start` may refuse (a ValidationError), which leaves the job as it was."""
    retryable = Q(status__in=[Job.Status.FAILED, Job.Status.CANCELLED]) | Q(
        status=Job.Status.RUNNING, heartbeat_at__lt=lost_before()
    )
    retried = Job.objects.filter(retryable, pk=job.pk).update(
        status=Job.Status.QUEUED,
        failure="",
        heartbeat_at=timezone.now(),
        finished_at=None,
        rows_done=0,
        cancel_requested_at=None,
    )
    if not retried:
        raise ValidationError("Only a failed or cancelled job, or one that lost its worker, can be retried.")
    kind = jobs.kind_of(job)
    job = kind.model.objects.get(pk=job.pk)
    kind.start(job)
    log_audit(business=job.business, actor=actor, action="job.retried", target=job, job_id=job.pk)
    return job
