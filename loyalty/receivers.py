"""The loyalty app's handlers of the customers app's domain signals, connected in
LoyaltyConfig.ready()."""

from django.db.models import F

from customers.models import Customer, Order
from loyalty import services
from loyalty.models import TierChange


def merge_tiers_and_points(sender, record, survivor, merged, **kwargs):
    """A merge gives the survivor the highest tier of the customers merged and all their points."""
    services.merge_tiers(record=record, survivor=survivor, merged=merged)
    points = sum(customer.points_balance for customer in merged)
    if points:
        Customer.objects.filter(pk=survivor.pk).update(points_balance=F("points_balance") + points)


def give_back_tiers_and_points(sender, record, **kwargs):
    """An undo takes back the merged customers' points, and the tier the merge gave unless the
    survivor's tier changed since. (The merged customers get theirs back with the rest of
    their state.)"""
    services.undo_merge_tiers(record=record)
    snapshot = record.snapshot
    points = sum(
        state["points_balance"]
        for pk, state in snapshot["customers"].items()
        if int(pk) != record.survivor_id
    )
    if points:
        Customer.objects.filter(pk=record.survivor_id).update(points_balance=F("points_balance") - points)


def upgrade_after_order(sender, order, customer, **kwargs):
    """A recorded order re-evaluates its customer in the same transaction: upgrades are immediate.
    (The order holds the business it was recorded with; the customer would read it again.)"""
    if order.status in Order.COUNTED_STATUSES:
        services.recalculate_customers(order.business, [customer.pk], cause=TierChange.Cause.ORDER)


def reevaluate_after_status_change(sender, order, old_status, **kwargs):
    """A refund or a cancel can take a customer below their tier (the grace starts); a
    completion can lift them."""
    services.recalculate_customers(order.business, [order.customer_id], cause=TierChange.Cause.ORDER)


def upgrade_after_import(sender, business, order_ids, customer_ids, **kwargs):
    services.recalculate_customers(business, sorted(set(customer_ids)), cause=TierChange.Cause.ORDER)


def seed_demo_loyalty(sender, business, actor, rng, **kwargs):
    """seed_demo's loyalty data: the tiers in every state, then every customer's lifetime value."""
    services.seed_demo_tiers(business=business, actor=actor, rng=rng)
    services.fit_lifetime_values(business=business, actor=actor)
