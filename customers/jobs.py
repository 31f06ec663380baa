"""The one way any app runs long work (imports, exports, recalculations, anonymization): a
`Job` row with its status, progress, heartbeat, attempts, failure in words, retry and
cancel, failed by a sweeper on a schedule when its worker dies, shown by one progress
component, and followed by partners at `GET /api/v1/jobs/{id}`. The same sweeper queues
again the task of a job that waited a lease in the queue, which a broker without
acknowledgements (Redis) may have lost with a killed worker.

How an app runs its work as a job:

1. Its model extends `customers.models.Job` (multi-table inheritance: the `Job` row keeps
   the state, the app's own table what the work needs), e.g.
   `class SegmentRecalculation(Job): segment = models.ForeignKey(Segment, ...)`.
2. It registers the kind in its `AppConfig.ready()`:
   `jobs.register("segment_recalculation", model=SegmentRecalculation, start=queue)`, where
   `start(job)` queues the work (`transaction.on_commit(lambda: async_task(path, job.pk))`);
   Retry calls it again.
3. Its task takes the job's id: `if not jobs.claim_job(job_id): return` (a task delivered
   twice runs once), loads the job (its `attempts` now names this run), then works chunk by
   chunk, calling `jobs.report_progress(job, rows)` after each chunk, outside any long
   transaction. That call raises `jobs.JobCancelled` once the user cancelled, or the sweeper
   failed the job for a heartbeat late past JOB_STALE_SECONDS: catch it and end with
   `jobs.finish_cancelled(job)` (which saves nothing in the second case). End with
   `jobs.finish_job(job)`, or `jobs.finish_job(job, failure="what went wrong, in words")`.
4. Its page includes `components/job_progress.html` with the job and the URLs of its JSON
   status (a view answering `JsonResponse(jobs.progress_json(job))`), retry and cancel (views
   calling the services `customers.services.retry_job` and `cancel_job`, which write the
   business's audit entry).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.sql import UpdateQuery
from django.db.models.sql.constants import ROW_COUNT
from django.utils import timezone

from customers.models import Job, lost_before

logger = logging.getLogger(__name__)

STALE_JOB_MESSAGE = (
    "The worker running this job stopped (it was restarted or killed). Retry it: what it had "
    "already done is recognized and not done twice."
)
LOST_JOB_MESSAGE = (
    "This job lost its worker: it has not reported for {minutes} minutes (the worker was "
    "restarted or killed). Retry it."
)


@dataclass(frozen=True)
class JobKind:
    name: str
    model: type[Job]
    start: Callable[[Job], None]


KINDS: dict[str, JobKind] = {}


def register(name, *, model, start):
    """Make `model`'s jobs known to retry, the sweeper and the jobs API (from `AppConfig.ready()`)."""
    KINDS[name] = JobKind(name, model, start)


def kind_of(job):
    """The registered kind of a job, whether `job` is a bare `Job` or its kind's own model."""
    for kind in KINDS.values():
        if isinstance(job, kind.model):
            return kind
    for kind in KINDS.values():
        if hasattr(job, kind.model._meta.model_name):
            return kind
    raise LookupError(f"No job kind registered for job {job.pk}")


def with_kinds(queryset):
    """`Job` rows with their kind's own row joined, so `kind_of` needs no query."""
    return queryset.select_related(*(kind.model._meta.model_name for kind in KINDS.values()))


class JobCancelled(Exception):
    """The user cancelled the job, or the sweeper failed it because its heartbeat came too
    late (its retry may run elsewhere): the worker stops at the chunk it has reached."""


def claim_job(job_id):
    """Mark a queued job running; False when it is not queued (already run, running
    elsewhere, cancelled, or failed by the sweeper), so a task delivered twice runs once."""
    now = timezone.now()
    return bool(
        Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
            status=Job.Status.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1
        )
    )


def report_progress(job, rows_done, *, connection=None):
    """Record the rows done and the heartbeat in a statement of its own; raise JobCancelled
    when the user asked to cancel or the job is no longer this worker's (see
    `save_if_claimed`). Call it between chunks, outside any long transaction: a
    write inside one shows only when it commits and locks the job's row until then (on
    SQLite, the whole database). Work that must hold one transaction (an all-or-nothing
    import on PostgreSQL) passes a `connection` of its own, in autocommit."""
    job.rows_done = rows_done
    pending = Job.objects.filter(
        pk=job.pk, status=Job.Status.RUNNING, attempts=job.attempts, cancel_requested_at=None
    )
    values = {"rows_done": rows_done, "heartbeat_at": timezone.now()}
    if connection is None:
        updated = pending.update(**values)
    else:
        query = pending.query.chain(UpdateQuery)
        query.add_update_values(values)
        updated = query.get_compiler(connection=connection).execute_sql(ROW_COUNT)
    if not updated:
        raise JobCancelled


def finish_job(job, failure=""):
    job.status = job.Status.FAILED if failure else job.Status.DONE
    job.failure = failure
    job.finished_at = timezone.now()
    return save_if_claimed(job)


def save_if_claimed(job):
    """Save the outcome of the run that claimed the job, unless the job is no longer its
    own: the sweeper failed it (a heartbeat late past the lease) and a retry may be running
    it elsewhere; that run's outcome is the one that counts."""
    with transaction.atomic():
        # The row locked, so that the sweeper cannot fail it between this look and the save.
        claimed = Job.objects.select_for_update().filter(
            pk=job.pk, status=Job.Status.RUNNING, attempts=job.attempts
        )
        if claimed.exists():
            job.save()
        else:
            logger.warning("Job %s was taken from this worker: its outcome is not saved", job.pk)
    return job


def finish_cancelled(job, outcome=""):
    """End a job the user cancelled, saying how far it went and what `outcome` it leaves."""
    total = f" of {job.total_rows:,}" if job.total_rows is not None else ""
    job.cancel_requested_at = Job.objects.values_list("cancel_requested_at", flat=True).get(pk=job.pk)
    job.status = job.Status.CANCELLED
    job.failure = " ".join(filter(None, [f"Cancelled after {job.rows_done:,}{total} rows.", outcome]))
    job.finished_at = timezone.now()
    return save_if_claimed(job)


def fail_stale_jobs():
    """Fail the running jobs of every business whose worker died (no heartbeat for
    JOB_STALE_SECONDS). Runs on its schedule only (customers.tasks.fail_stale_jobs): a page
    reads a job that lost its worker as such without sweeping."""
    return Job.objects.stale(before=lost_before()).update(
        status=Job.Status.FAILED, failure=STALE_JOB_MESSAGE, finished_at=timezone.now()
    )


def requeue_waiting_jobs():
    """Queue again the task of every job still waiting JOB_STALE_SECONDS after it was queued,
    once in that time. A broker that does not acknowledge (Redis) loses the tasks a killed
    cluster had taken and not started; a task that was only waiting in line runs as a no-op
    when its second delivery comes (claim_job). Runs on the sweeper's schedule."""
    now = timezone.now()
    requeued = 0
    for job in with_kinds(Job.objects.filter(status=Job.Status.QUEUED, heartbeat_at__lt=lost_before())):
        with transaction.atomic():
            # A worker's claim, a cancel or another cluster's sweeper may have come first.
            mine = Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED, heartbeat_at=job.heartbeat_at)
            if not mine.update(heartbeat_at=now):
                continue
            kind = kind_of(job)
            kind.start(getattr(job, kind.model._meta.model_name))
        logger.warning(
            "Job %s was still queued after %s s: its task is queued again", job.pk, settings.JOB_STALE_SECONDS
        )
        requeued += 1
    return requeued


def failure_text(job):
    if job.is_lost:
        return LOST_JOB_MESSAGE.format(minutes=settings.JOB_STALE_SECONDS // 60)
    return job.failure


def progress_json(job):
    """What a job page's progress component polls."""
    return {
        "status": job.status,
        "label": job.state_label,
        "percent": job.percent,
        "rows_done": job.rows_done,
        "total_rows": job.total_rows,
        "finished": job.is_finished,
    }


def api_json(job):
    """`GET /api/v1/jobs/{id}`. The statuses are the documented four: a cancelled job, or one
    that lost its worker, reads "failed" with the reason in `failure`."""
    status = job.status
    if status == Job.Status.CANCELLED or job.is_lost:
        status = Job.Status.FAILED
    return {
        "id": job.pk,
        "kind": kind_of(job).name,
        "status": status,
        "rows_done": job.rows_done,
        "total_rows": job.total_rows,
        "failure": failure_text(job),
    }
