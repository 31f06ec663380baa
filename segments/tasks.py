"""django-q2 entry points of the segments app: they take ids, load, and call a service."""

from segments import services


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
