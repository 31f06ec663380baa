"""The loyalty app's handlers of the customers app's domain signals, connected in
LoyaltyConfig.ready()."""

from customers.models import Order
from loyalty import services
from loyalty.models import TierChange


def merge_tiers(sender, record, survivor, merged, **kwargs):
    """A merge gives the survivor the highest tier of the customers merged (a TierChange)."""
    services.merge_tiers(record=record, survivor=survivor, merged=merged)


def give_back_tiers(sender, record, **kwargs):
    """An undo takes back the tier the merge gave unless the survivor's tier changed since."""
    services.undo_merge_tiers(record=record)


def merge_points(sender, record, survivor, merged, **kwargs):
    """The merge moved the merged customers' ledger entries to the survivor (merge registry):
    each balance becomes its ledger's sum again."""
    services.balance_to_ledger([survivor.pk, *(customer.pk for customer in merged)])


def give_back_points(sender, record, **kwargs):
    """The undo moved the entries back; refused when the survivor spent points that go back."""
    services.balance_to_ledger([record.survivor_id, *record.merged_ids])


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


def earn_after_order(sender, order, customer, **kwargs):
    if order.status == Order.Status.COMPLETED:
        services.earn_for_orders(business=order.business, order_ids=[order.pk])


def points_after_status_change(sender, order, old_status, **kwargs):
    """A completion earns (once per order); a refund or a cancel takes back what it earned."""
    if order.status == Order.Status.COMPLETED:
        services.earn_for_orders(business=order.business, order_ids=[order.pk])
    elif order.status in services.REVERSED_STATUSES:
        services.reverse_order_points(order=order)


def earn_after_import(sender, business, order_ids, customer_ids, **kwargs):
    services.earn_for_orders(business=business, order_ids=order_ids)


def seed_demo_points(sender, business, actor, rng, **kwargs):
    services.seed_demo_points(business=business, actor=actor, rng=rng)
