"""Helpers of the segments tests: customers with orders at given times, segments, rules."""

import datetime as dt
import itertools

from customers import services as customer_services
from customers.models import Customer
from segments import services
from segments.models import Segment

_numbers = itertools.count(1)
_phones = itertools.count(1001)

SPENT_OVER_100_IN_90_DAYS = {
    "operator": "AND",
    "rules": [
        {"field": "total_spent", "operator": "greater_than", "value": 100, "timeframe": "last_90_days"}
    ],
}
GOLD = {"operator": "AND", "rules": [{"field": "tier", "operator": "in", "value": ["GOLD"]}]}
VIP = {"operator": "AND", "rules": [{"field": "tags", "operator": "contains", "value": "vip"}]}


def phone():
    return f"+1415555{next(_phones):04d}"


def order(business, phone_number=None, amount="10.00", *, days_ago=0, status="completed"):
    recorded = customer_services.record_order(
        business=business,
        external_id=f"S-{next(_numbers)}",
        phone=phone_number or phone(),
        amount=amount,
        placed_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago),
        status=status,
        actor=None,
    )
    return Customer.objects.get(pk=recorded.order.customer_id)


def dynamic(business, rules=SPENT_OVER_100_IN_90_DAYS, name="Big spenders", actor=None):
    """A dynamic segment, its first recalculation run (the queued task would run it once the
    test's transaction committed, which it never does)."""
    segment, job = services.create_segment(business=business, actor=actor, name=name, rules=rules)
    services.run_recalculation(job.pk)
    segment.refresh_from_db()
    return segment


def static(business, name="Hand-picked", actor=None):
    segment, _ = services.create_segment(business=business, actor=actor, name=name, kind=Segment.Kind.STATIC)
    return segment


def member_ids(segment):
    return set(segment.memberships.values_list("customer_id", flat=True))
