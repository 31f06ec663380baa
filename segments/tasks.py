"""django-q2 entry points of the segments app: they take ids, load, and call a service."""

from datetime import datetime, time, timedelta

from django.utils import timezone
from django_q.models import Schedule

from segments import services

SCHEDULES = [
    # (name, function, schedule type, minutes, first run at this time tomorrow or None)
    (
        "Segments: re-evaluate customers after events",
        "segments.tasks.evaluate_pending",
        Schedule.MINUTES,
        1,
        None,
    ),
    (
        "Segments: hourly recalculation of time-relative segments",
        "segments.tasks.recalculate_hourly",
        Schedule.HOURLY,
        None,
        None,
    ),
    (
        "Segments: nightly recalculation",
        "segments.tasks.recalculate_nightly",
        Schedule.DAILY,
        None,
        time(2, 45),
    ),
    ("Segments: daily size snapshots", "segments.tasks.take_snapshots", Schedule.DAILY, None, time(23, 50)),
]


def recalculate_segment(job_id):
    """Run a SegmentRecalculation; does nothing if the job is not queued."""
    services.run_recalculation(job_id)


def evaluate_pending():
    services.evaluate_pending()


def recalculate_hourly():
    services.recalculate_due(time_relative=True)


def recalculate_nightly():
    services.recalculate_due(time_relative=False)


def take_snapshots():
    services.take_snapshots()


def ensure_schedules(using="default", **kwargs):
    """Create the segments' schedules once (after every migrate)."""
    for name, func, schedule_type, minutes, at in SCHEDULES:
        next_run = timezone.now()
        if at is not None:
            next_run = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=1), at))
        Schedule.objects.using(using).get_or_create(
            name=name,
            defaults={
                "func": func,
                "schedule_type": schedule_type,
                "minutes": minutes,
                "next_run": next_run,
                "repeats": -1,
            },
        )
