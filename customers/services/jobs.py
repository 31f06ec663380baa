from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from customers import jobs
from customers.models import ExportJob, ImportJob

UNEXPECTED_JOB_ERROR = "An unexpected error stopped the job. Retry it; if it fails again, contact support."


def fail_stale_jobs():
    """Fail the jobs whose worker died (no heartbeat), and delete the files that hold
    personal data once their retention is over: exports after EXPORT_FILE_DAYS, uploads
    (with their rejected rows and the rows previewed) IMPORT_FILE_DAYS after they were
    checked or imported. Runs on its schedule only."""
    jobs.fail_stale_jobs()
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
