"""Incremental updates: each kind of event notes its customers with one INSERT, and the
batch moves them in or out of the active dynamic segments with the cause "event"."""

import datetime as dt

from django.utils import timezone

from customers import services as customer_services
from customers.models import Customer, Order, Tag
from customers.tests.bulk.test_import import run_import
from loyalty import services as loyalty_services
from segments import services
from segments.models import PendingEvaluation, SegmentMembershipEvent
from segments.tests.factories import GOLD, VIP, dynamic, member_ids, order, static


def evaluated():
    services.evaluate_pending()
    assert not PendingEvaluation.objects.exists()


def test_a_recorded_order_moves_its_customer_in_within_the_next_batch(business):
    segment = dynamic(business)
    ann = order(business, amount="60.00", days_ago=1)
    ann = order(business, ann.phone, amount="60.00", days_ago=1)

    assert member_ids(segment) == set()
    assert set(PendingEvaluation.objects.values_list("customer_id", flat=True)) == {ann.pk}
    evaluated()

    assert member_ids(segment) == {ann.pk}
    event = SegmentMembershipEvent.objects.get(segment=segment)
    assert (event.customer_id, event.kind, event.cause) == (ann.pk, "joined", "event")
    segment.refresh_from_db()
    assert segment.member_count == 1


def test_an_order_pays_one_insert_for_the_segments(business, django_assert_num_queries):
    dynamic(business)
    ann = order(business, amount="60.00", days_ago=1)
    from segments import receivers

    recorded = Order.objects.get(customer=ann)
    with django_assert_num_queries(1):
        receivers.note_order(sender=Order, order=recorded)


def test_a_refund_moves_its_customer_out(business, owner):
    ann = order(business, amount="150.00", days_ago=1)
    segment = dynamic(business)
    assert member_ids(segment) == {ann.pk}

    customer_services.change_order_status(
        order=Order.objects.get(customer=ann), status="refunded", actor=owner
    )
    evaluated()

    assert member_ids(segment) == set()
    assert segment.events.filter(kind="left", cause="event").count() == 1


def test_imported_orders_move_their_customers(business):
    segment = dynamic(business)
    placed = (timezone.now() - dt.timedelta(days=2)).isoformat()
    data = f"external_id,phone,amount,placed_at,status\nI-1,+14155550111,250.00,{placed},completed\n"
    run_import(business, data.encode(), kind="orders")
    evaluated()

    assert member_ids(segment) == {Customer.objects.get(phone="+14155550111").pk}


def test_a_tag_added_or_removed_moves_the_customer(business, owner):
    segment = dynamic(business, VIP, "VIPs")
    ann = order(business)
    evaluated()

    customer_services.tag_customer(customer=ann, name="VIP", actor=owner)
    evaluated()
    assert member_ids(segment) == {ann.pk}

    customer_services.untag_customer(customer=ann, tag=Tag.objects.get(name="VIP"), actor=owner)
    evaluated()
    assert member_ids(segment) == set()


def test_a_tier_change_moves_the_customer(business, owner):
    segment = dynamic(business, GOLD, "Gold")
    ann = order(business)
    evaluated()

    loyalty_services.override_tiers(
        business=business,
        customers=Customer.objects.filter(pk=ann.pk),
        tier="GOLD",
        reason="Test",
        actor=owner,
    )
    evaluated()

    assert member_ids(segment) == {ann.pk}


def test_inactive_and_static_segments_are_left_alone(business, owner):
    inactive = dynamic(business, name="Paused")
    services.update_segment(segment=inactive, actor=owner, name="Paused", description="", active=False)
    hand_picked = static(business)
    order(business, amount="150.00", days_ago=1)
    evaluated()

    assert member_ids(inactive) == set() == member_ids(hand_picked)


def test_a_merge_moves_static_memberships_to_the_survivor_and_undo_gives_them_back(business, owner):
    ann, dup = order(business, amount="150.00", days_ago=1), order(business)
    hand_picked = static(business)
    services.add_to_segment(segment=hand_picked, customers=Customer.objects.filter(pk=dup.pk), actor=owner)
    spenders = dynamic(business)
    assert member_ids(spenders) == {ann.pk}

    record = customer_services.merge_customers(survivor=dup, merged=[ann], reason="Same person", actor=owner)
    evaluated()
    # dup takes ann's order: it joins the dynamic segment; ann, merged away, leaves it.
    assert member_ids(spenders) == {dup.pk}
    assert member_ids(hand_picked) == {dup.pk}

    customer_services.undo_merge(record=record, actor=owner)
    evaluated()
    assert member_ids(spenders) == {ann.pk}
    assert member_ids(hand_picked) == {dup.pk}


def test_a_merged_customers_static_membership_goes_to_the_survivor(business, owner):
    ann, dup = order(business), order(business)
    hand_picked = static(business)
    services.add_to_segment(segment=hand_picked, customers=Customer.objects.filter(pk=dup.pk), actor=owner)

    record = customer_services.merge_customers(survivor=ann, merged=[dup], reason="Same person", actor=owner)
    assert member_ids(hand_picked) == {ann.pk}
    hand_picked.refresh_from_db()
    assert hand_picked.member_count == 1

    customer_services.undo_merge(record=record, actor=owner)
    assert member_ids(hand_picked) == {dup.pk}
