import logging
import tempfile
import uuid

from django.core.files import File
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone
from django_q.tasks import async_task

from customers.bulk import exports
from customers.jobs import JobCancelled, claim_job, finish_cancelled, finish_job, report_progress
from customers.models import ExportJob
from customers.replicas import caught_up_replica
from customers.services.jobs import UNEXPECTED_JOB_ERROR

logger = logging.getLogger(__name__)


def queue_export(job):
    transaction.on_commit(lambda: async_task("customers.tasks.run_export_job", job.pk, group="exports"))


def request_export(*, business, actor, kind, file_format, params):
    """Export the customer list (as filtered by `params`) or its orders to a file, in the background."""
    job = ExportJob.objects.create(
        business=business, actor=actor, kind=kind, format=file_format, filters=dict(params.lists())
    )
    queue_export(job)
    return job


def run_export_job(job_id):
    """Write the export file, reporting progress every chunk. Safe to call twice."""
    if not claim_job(job_id):
        return None
    job = ExportJob.objects.select_related("business").get(pk=job_id)
    params = QueryDict(mutable=True)
    for name, values in job.filters.items():
        params.setlist(name, values)
    with timezone.override(job.business.timezone):
        try:
            queryset = exports.queryset_for(job.business, job.kind, params).using(caught_up_replica())
            job.total_rows = queryset.count()
            ExportJob.objects.filter(pk=job.pk).update(total_rows=job.total_rows)
            rows = exports.export_rows(job.kind, queryset)
            write = exports.write_xlsx if job.format == ExportJob.Format.XLSX else exports.write_csv
            with tempfile.TemporaryFile() as output:
                write(reporting_progress(rows, job), output)
                output.seek(0)
                job.file.save(f"{uuid.uuid4().hex}.{job.format}", File(output), save=False)
        except JobCancelled:
            return finish_cancelled(job, "No file was written.")
        except Exception:
            logger.exception("Export job %s failed", job_id)
            return finish_job(job, failure=UNEXPECTED_JOB_ERROR)
    job.rows_done = job.total_rows
    return finish_job(job)


def reporting_progress(rows, job):
    for number, row in enumerate(rows):
        if number and number % exports.EXPORT_CHUNK == 0:
            report_progress(job, number)
        yield row
