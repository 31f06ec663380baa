"""Full recalculations of a dynamic segment: on demand or after a change (a job with
progress), hourly for segments whose rules move with time, nightly for the others; and the
daily size snapshots."""

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_q.tasks import async_task

from customers import jobs
from customers.models import Customer, Job
from customers.services.audit import log_audit
from segments import rules as segment_rules
from segments.models import Segment, SegmentMembershipEvent, SegmentRecalculation, SegmentSnapshot
from segments.services import membership

RECALCULATION_FAILED = "An unexpected error stopped the recalculation. Retry it."
RECALCULATION_TOO_SLOW = (
    "The recalculation took longer than {seconds} seconds and was stopped; nothing changed. "
    "Simplify the rules or retry when the database is less busy."
)


@transaction.atomic
def request_recalculation(*, segment, actor, reason="On demand"):
    """Queue a recalculation job of a dynamic segment (returned)."""
    job = SegmentRecalculation.objects.create(
        business_id=segment.business_id, segment=segment, actor=actor, reason=reason[:200]
    )
    log_audit(
        business=segment.business,
        actor=actor,
        action="segment.recalculation_requested",
        target=segment,
        job_id=job.pk,
    )
    queue_recalculation(job)
    return job


def queue_recalculation(job):
    """The job kind's start (customers.jobs): queue the task once the job is committed."""
    transaction.on_commit(lambda: async_task("segments.tasks.recalculate_segment", job.pk, group="segments"))


def recalculate(segment, *, actor=None, at=None):
    """Make a dynamic segment's members exactly those its rules match now, in one
    transaction; returns (joined, left). On PostgreSQL the transaction has a statement
    timeout below the job sweeper's, so a stuck recalculation fails on its own."""
    at = at or timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # work_mem: the diff of matching customers and members hashes one side: in
                # memory, not in batches on disk, for segments of a million members.
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true), set_config('work_mem', %s, true)",
                    [
                        str(max(1, int(settings.SEGMENT_RECALCULATION_TIMEOUT_SECONDS * 1000))),
                        settings.SEGMENT_RECALCULATION_WORK_MEM,
                    ],
                )
        matching = segment_rules.members(segment.rules, business=segment.business, at=at)
        joined, left = membership.replace_members(
            segment, matching, cause=SegmentMembershipEvent.Cause.RECALCULATION, actor=actor, at=at
        )
        Segment.objects.filter(pk=segment.pk).update(last_recalculated_at=at)
        if connection.vendor == "postgresql":
            # The timeout is local to the outermost transaction: a caller's own one goes on without it.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout TO DEFAULT; SET LOCAL work_mem TO DEFAULT")
    return joined, left


def run_recalculation(job_id, *, at=None):
    """The job's work: one recalculation, the job saying how many joined and left."""
    if not jobs.claim_job(job_id):
        return None
    job = SegmentRecalculation.objects.select_related("segment__business").get(pk=job_id)
    segment = job.segment
    if segment.deleted_at is not None or segment.kind != Segment.Kind.DYNAMIC:
        return jobs.finish_job(job, failure="This segment was deleted or is static: nothing to recalculate.")
    job.total_rows = Customer.objects.filter(business_id=segment.business_id).live().count()
    Job.objects.filter(pk=job.pk).update(total_rows=job.total_rows)
    try:
        # The one transaction cannot stop half-way: a cancel is honoured before it starts.
        jobs.report_progress(job, 0)
        job.joined, job.left = recalculate(segment, actor=job.actor, at=at)
    except jobs.JobCancelled:
        return jobs.finish_cancelled(job, "Nothing changed.")
    except Exception as error:
        if is_statement_timeout(error):
            seconds = settings.SEGMENT_RECALCULATION_TIMEOUT_SECONDS
            return jobs.finish_job(job, failure=RECALCULATION_TOO_SLOW.format(seconds=seconds))
        jobs.finish_job(job, failure=RECALCULATION_FAILED)
        raise
    job.rows_done = job.total_rows
    return jobs.finish_job(job)


def is_statement_timeout(error):
    return getattr(getattr(error, "__cause__", None), "sqlstate", None) == "57014"


def running_recalculation(segment):
    """The segment's queued or running recalculation, if any (the page's "calculating since")."""
    return (
        SegmentRecalculation.objects.filter(
            segment=segment, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
        )
        .order_by("-created_at")
        .first()
    )


def recalculate_due(*, time_relative):
    """The schedules' work: a recalculation job for every active dynamic segment whose
    rules move with time (hourly) or not (nightly), unless one is already waiting."""
    segments = Segment.objects.live().dynamic().filter(active=True, time_relative=time_relative)
    waiting = SegmentRecalculation.objects.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
    queued = []
    for segment in segments.exclude(pk__in=waiting.values("segment_id")).select_related("business"):
        queued.append(request_recalculation(segment=segment, actor=None, reason="Scheduled"))
    return queued


def take_snapshots(*, date=None):
    """Record every live segment's size of the day (again: the last call of a day wins)."""
    date = date or timezone.localdate()
    snapshots = [
        SegmentSnapshot(segment_id=pk, date=date, member_count=count)
        for pk, count in Segment.objects.live().values_list("pk", "member_count")
    ]
    SegmentSnapshot.objects.bulk_create(
        snapshots, update_conflicts=True, unique_fields=["segment", "date"], update_fields=["member_count"]
    )
    return len(snapshots)
