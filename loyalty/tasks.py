"""django-q2 entry points of the loyalty app: they take ids, load, and call a service."""

from datetime import datetime, time, timedelta

from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from customers.models import Business
from loyalty import services

NIGHTLY_RECALCULATION_NAME = "Nightly tier recalculation"
NIGHTLY_RECALCULATION_AT = time(3, 15)
OVERRIDE_EXPIRY_NAME = "Expire tier overrides"


def recalculate_tiers(job_id):
    """Run a TierRecalculation; does nothing if the job is not queued."""
    services.run_recalculation(job_id)


def recalculate_tiers_everywhere():
    """The nightly schedule: a recalculation job for every business (graces end, rolling
    periods move on)."""
    for business in Business.objects.order_by("pk"):
        services.request_recalculation(business=business, actor=None, reason="Nightly")


def expire_overrides():
    services.expire_overrides()


def ensure_schedules(using="default", **kwargs):
    """Create the nightly recalculation and the override expiry schedules once (after every migrate)."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    Schedule.objects.using(using).get_or_create(
        name=NIGHTLY_RECALCULATION_NAME,
        defaults={
            "func": "loyalty.tasks.recalculate_tiers_everywhere",
            "schedule_type": Schedule.DAILY,
            "next_run": timezone.make_aware(datetime.combine(tomorrow, NIGHTLY_RECALCULATION_AT)),
            "repeats": -1,
        },
    )
    Schedule.objects.using(using).get_or_create(
        name=OVERRIDE_EXPIRY_NAME,
        defaults={
            "func": "loyalty.tasks.expire_overrides",
            "schedule_type": Schedule.MINUTES,
            "minutes": 15,
            "repeats": -1,
        },
    )


NIGHTLY_CLV_NAME = "Nightly customer lifetime value fit"
NIGHTLY_CLV_AT = time(3, 30)


def fit_lifetime_values_task(business_id):
    business = Business.objects.filter(pk=business_id).first()
    if business is not None:
        services.fit_lifetime_values(business=business, actor=None)


def fit_lifetime_values_everywhere():
    """The nightly schedule: a task per business, so each gets the worker's whole timeout."""
    for business_id in Business.objects.order_by("pk").values_list("pk", flat=True):
        async_task("loyalty.tasks.fit_lifetime_values_task", business_id, group="clv")


def ensure_nightly_clv_fit(using="default", **kwargs):
    """Create the nightly schedule once (runs after every migrate)."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    Schedule.objects.using(using).get_or_create(
        name=NIGHTLY_CLV_NAME,
        defaults={
            "func": "loyalty.tasks.fit_lifetime_values_everywhere",
            "schedule_type": Schedule.DAILY,
            "next_run": timezone.make_aware(datetime.combine(tomorrow, NIGHTLY_CLV_AT)),
            "repeats": -1,
        },
    )


POINTS_EXPIRY_NAME = "Expire loyalty points"
POINTS_EXPIRY_AT = time(2, 45)


def expire_points():
    services.expire_points()


def ensure_points_expiry(using="default", **kwargs):
    """Create the daily points expiry schedule once (runs after every migrate)."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    Schedule.objects.using(using).get_or_create(
        name=POINTS_EXPIRY_NAME,
        defaults={
            "func": "loyalty.tasks.expire_points",
            "schedule_type": Schedule.DAILY,
            "next_run": timezone.make_aware(datetime.combine(tomorrow, POINTS_EXPIRY_AT)),
            "repeats": -1,
        },
    )
