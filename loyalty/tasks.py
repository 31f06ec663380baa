"""django-q2 entry points of the loyalty app: they take ids, load, and call a service."""

from django_q.tasks import async_task

from customers.models import Business
from loyalty import services


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


def fit_lifetime_values_task(business_id):
    business = Business.objects.filter(pk=business_id).first()
    if business is not None:
        services.fit_lifetime_values(business=business, actor=None)


def fit_lifetime_values_everywhere():
    """The nightly schedule: a task per business, so each gets the worker's whole timeout."""
    for business_id in Business.objects.order_by("pk").values_list("pk", flat=True):
        async_task("loyalty.tasks.fit_lifetime_values_task", business_id, group="clv")


def expire_points():
    services.expire_points()
