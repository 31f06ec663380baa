"""The segments app's handlers of other apps' domain signals, connected in
SegmentsConfig.ready(): each notes the customers whose segments may have changed (one
INSERT in the event's transaction); segments.services.incremental re-evaluates them."""

from segments import services


def note_order(sender, order, **kwargs):
    services.note_customers(order.business_id, [order.customer_id])


def note_imported_orders(sender, business, order_ids, customer_ids, **kwargs):
    services.note_customers(business.pk, customer_ids)


def note_customers(sender, business_id, customer_ids, **kwargs):
    """tiers_changed (loyalty) and tags_changed (customers) both carry these."""
    services.note_customers(business_id, customer_ids)


def note_anonymized(sender, business, customer_ids, **kwargs):
    services.note_customers(business.pk, customer_ids)


def move_memberships(sender, record, survivor, merged, **kwargs):
    services.move_static_memberships(record=record, survivor=survivor, merged=merged)


def give_back_memberships(sender, record, **kwargs):
    services.give_back_static_memberships(record=record)


def seed_demo_segments(sender, business, actor, rng, **kwargs):
    services.seed_demo_segments(business=business, actor=actor, rng=rng)
