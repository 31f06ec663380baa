"""django-q2 entry points of the privacy app: they take ids, load, and call a service."""

from datetime import datetime, time, timedelta

from django.utils import timezone
from django_q.models import Schedule

from privacy import services

NIGHTLY_RETENTION_NAME = "Nightly retention (anonymize expired deleted customers)"
NIGHTLY_RETENTION_AT = time(3, 45)
EXPORT_EXPIRY_NAME = "Delete expired data export files"


def build_data_export(job_id):
    services.run_data_export(job_id)


def anonymize(job_id):
    services.run_anonymization_job(job_id)


def run_retention():
    return services.run_retention_everywhere()


def expire_data_exports():
    return services.expire_data_exports()


def ensure_schedules(using="default", **kwargs):
    """Create the nightly retention run and the export expiry once (after every migrate)."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    Schedule.objects.using(using).get_or_create(
        name=NIGHTLY_RETENTION_NAME,
        defaults={
            "func": "privacy.tasks.run_retention",
            "schedule_type": Schedule.DAILY,
            "next_run": timezone.make_aware(datetime.combine(tomorrow, NIGHTLY_RETENTION_AT)),
            "repeats": -1,
        },
    )
    Schedule.objects.using(using).get_or_create(
        name=EXPORT_EXPIRY_NAME,
        defaults={
            "func": "privacy.tasks.expire_data_exports",
            "schedule_type": Schedule.HOURLY,
            "repeats": -1,
        },
    )
