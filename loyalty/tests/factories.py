"""Helpers of the tier tests: orders at given times, configurations, recalculations at a clock."""

import datetime as dt
import itertools

from customers import services as customer_services
from customers.models import Customer
from loyalty import services
from loyalty.models import TierConfiguration
from loyalty.tiers import thresholds

NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
_numbers = itertools.count(1)


def order(business, phone, amount="10.00", *, days_ago=0, status="completed", at=NOW):
    recorded = customer_services.record_order(
        business=business,
        external_id=f"T-{next(_numbers)}",
        phone=phone,
        amount=amount,
        placed_at=at - dt.timedelta(days=days_ago),
        status=status,
        actor=None,
    )
    return Customer.objects.get(pk=recorded.order.customer_id)


def configure(business, *, grace_days=90, **tiers):
    """Store a configuration without a recalculation (the tests run one at their own clock)."""
    configuration = services.tier_configuration(business)
    TierConfiguration.objects.filter(pk=configuration.pk).update(
        thresholds=thresholds(**tiers), grace_days=grace_days
    )
    configuration.refresh_from_db()
    return configuration


def recalculate(business, *, at=NOW, actor=None):
    job = services.request_recalculation(business=business, actor=actor, reason="Test")
    return services.run_recalculation(job.pk, at=at)


def tier_of(customer):
    customer.refresh_from_db()
    return customer.tier
