"""The points ledger: earning, reversal, adjustments, redemptions, expiry, the balance kept
equal to the ledger (and never below zero), imports, merges, the demo, concurrency."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from conftest import requires_postgres
from customers import services as customer_services
from customers.models import Activity, Business, Customer, MergeRecord, Order
from customers.tests.bulk.test_import import csv_bytes, run_import
from loyalty import queries, services
from loyalty.models import PointsEntry, PointsRule
from loyalty.tests.factories import NOW, configure, order

Kind = PointsEntry.Kind


def ledger_sum(customer):
    return PointsEntry.objects.filter(customer=customer).aggregate(total=Sum("points"))["total"] or 0


def balance(customer):
    customer.refresh_from_db()
    assert customer.points_balance == ledger_sum(customer), "the balance is not the ledger's sum"
    return customer.points_balance


def entries(customer):
    return list(PointsEntry.objects.filter(customer=customer).order_by("id").values_list("kind", "points"))


def set_rule(business, points_per_unit="1", expiry_months=None):
    return services.configure_points_rule(
        business=business,
        points_per_unit=Decimal(points_per_unit),
        expiry_months=expiry_months,
        actor=None,
    )


# Earning -------------------------------------------------------------------------------------


def test_a_completed_order_earns_one_point_per_unit_rounded_down_with_a_timeline_line(business):
    ann = order(business, "+14155550101", "42.99")

    assert entries(ann) == [(Kind.EARN, 42)]
    assert balance(ann) == 42
    entry = PointsEntry.objects.get()
    assert entry.order.external_id.startswith("T-") and entry.expires_at is None
    activity = ann.activities.get(kind=Activity.Kind.POINTS_CHANGED)
    expected = {"entry_id": entry.pk, "entry_kind": "earn", "points": 42, "order_id": entry.order_id}
    assert activity.data == expected


def test_an_order_earns_before_the_tier_is_evaluated_so_a_points_threshold_counts_it(business):
    configure(business, silver={"points": 50})
    ann = order(business, "+14155550101", "60.00")
    assert (balance(ann), ann.tier) == (60, "SILVER")


def test_the_rule_counts_in_whole_cents_and_a_rule_of_zero_earns_nothing(business):
    set_rule(business, "100")
    ann = order(business, "+14155550101", "0.57")
    assert balance(ann) == 57  # 0.57 × 100 in floating point is 56.99…

    set_rule(business, "0.10")
    assert balance(order(business, "+14155550102", "19.99")) == 1

    set_rule(business, "0")
    bob = order(business, "+14155550103", "500.00")
    assert balance(bob) == 0 and not entries(bob)


def test_pending_blocked_and_tiny_orders_earn_nothing_until_completed_and_then_once(business, owner):
    ann = order(business, "+14155550101", "20.00", status="pending")
    order(business, "+14155550101", "0.50")
    assert entries(ann) == [] and balance(ann) == 0

    pending = Order.objects.get(customer=ann, status="pending")
    customer_services.change_order_status(order=pending, status="completed", actor=owner)
    customer_services.change_order_status(order=pending, status="pending", actor=owner)
    customer_services.change_order_status(order=pending, status="completed", actor=owner)

    assert entries(ann) == [(Kind.EARN, 20)]
    assert balance(ann) == 20


def test_the_database_refuses_a_second_earn_or_reversal_of_one_order(business):
    ann = order(business, "+14155550101", "10.00")
    earned = PointsEntry.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsEntry.objects.create(
            business=business, customer=ann, kind=Kind.EARN, points=1, order=earned.order
        )
    PointsEntry.objects.create(
        business=business, customer=ann, kind=Kind.REVERSE, points=-1, order=earned.order
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsEntry.objects.create(
            business=business, customer=ann, kind=Kind.REVERSE, points=-1, order=earned.order
        )


def test_the_database_refuses_a_negative_balance_even_from_a_raw_update(business):
    ann = order(business, "+14155550101", "10.00")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE customers_customer SET points_balance = -1 WHERE id = %s", [ann.pk])
    assert balance(ann) == 10


# Reversal ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["refunded", "cancelled"])
def test_a_refund_or_cancel_takes_back_what_the_order_earned_once(business, owner, status):
    ann = order(business, "+14155550101", "30.00")
    order(business, "+14155550101", "12.00")
    first = Order.objects.filter(customer=ann).order_by("id").first()

    customer_services.change_order_status(order=first, status=status, actor=owner)
    customer_services.change_order_status(order=first, status="completed", actor=owner)
    customer_services.change_order_status(order=first, status=status, actor=owner)

    assert entries(ann) == [(Kind.EARN, 30), (Kind.EARN, 12), (Kind.REVERSE, -30)]
    assert balance(ann) == 12
    reversal = PointsEntry.objects.get(kind=Kind.REVERSE)
    assert reversal.order == first and reversal.reason == f"Order {first.external_id} {status}"


def test_a_refund_after_the_points_were_spent_takes_back_only_what_is_left(business, owner):
    ann = order(business, "+14155550101", "30.00")
    services.change_points(customer=ann, kind="redeem", points=25, reason="Free pizza", actor=None)

    customer_services.change_order_status(order=Order.objects.get(), status="refunded", actor=owner)

    assert entries(ann) == [(Kind.EARN, 30), (Kind.REDEEM, -25), (Kind.REVERSE, -5)]
    assert balance(ann) == 0


def test_refunding_an_order_that_earned_nothing_writes_nothing(business, owner):
    ann = order(business, "+14155550101", "30.00", status="pending")
    customer_services.change_order_status(order=Order.objects.get(), status="cancelled", actor=owner)
    assert entries(ann) == [] and balance(ann) == 0


# Adjustments and redemptions -----------------------------------------------------------------


def test_an_adjustment_adds_or_takes_with_its_reason_actor_and_timeline_line(business, support):
    ann = order(business, "+14155550101", "10.00")

    added = services.change_points(
        customer=ann, kind="adjust", points=15, reason=" Lost order ", actor=support
    )
    taken = services.change_points(customer=ann, kind="adjust", points=-20, reason="Typo", actor=support)

    assert (added.balance, taken.balance) == (25, 5)
    assert entries(ann) == [(Kind.EARN, 10), (Kind.ADJUST, 15), (Kind.ADJUST, -20)]
    assert balance(ann) == 5
    line = ann.activities.filter(kind=Activity.Kind.POINTS_CHANGED).order_by("-id").first()
    assert (line.actor, line.data["entry_kind"], line.data["points"], line.data["reason"]) == (
        support,
        "adjust",
        -20,
        "Typo",
    )


@pytest.mark.parametrize(
    ("kind", "points", "reason", "field", "message"),
    [
        ("adjust", -11, "Too many", "points", "The balance is 10 points: cannot take 11."),
        ("redeem", 11, "Free pizza", "points", "The balance is 10 points: cannot redeem 11."),
        ("redeem", -5, "Free pizza", "points", "Give the number of points to redeem as a positive number."),
        ("adjust", 5, "  ", "reason", "Say why the points change."),
        ("adjust", 0, "Zero", "points", "Give a number of points other than 0, at most 10,000,000."),
        ("adjust", "5", "Text", "points", "Give a whole number of points."),
        ("adjust", 1.5, "Half", "points", "Give a whole number of points."),
        ("earn", 5, "Self-service", "kind", "kind must be one of adjust, redeem."),
    ],
)
def test_a_change_past_the_balance_or_without_a_reason_is_refused_and_writes_nothing(
    business, kind, points, reason, field, message
):
    ann = order(business, "+14155550101", "10.00")

    with pytest.raises(ValidationError) as refused:
        services.change_points(customer=ann, kind=kind, points=points, reason=reason, actor=None)

    assert refused.value.message_dict[field] == [message]
    assert entries(ann) == [(Kind.EARN, 10)] and balance(ann) == 10


def test_a_redemption_takes_the_points_and_may_empty_the_balance(business):
    ann = order(business, "+14155550101", "10.00")
    entry = services.change_points(customer=ann, kind="redeem", points=10, reason="Free coffee", actor=None)
    assert (entry.points, entry.balance, balance(ann)) == (-10, 0, 0)


def test_a_merged_customer_points_cannot_change(business):
    ann = order(business, "+14155550101", "10.00")
    bob = order(business, "+14155550102", "10.00")
    customer_services.merge_customers(survivor=ann, merged=[bob], reason="same", actor=None)
    with pytest.raises(ValidationError, match="deleted, merged or anonymized"):
        services.change_points(customer=bob, kind="adjust", points=5, reason="x", actor=None)


# The rule and expiry -------------------------------------------------------------------------


def test_changing_the_rule_is_audited_and_checked(business, owner):
    set_rule(business)
    rule = services.configure_points_rule(
        business=business, points_per_unit=Decimal("2.5"), expiry_months=12, actor=owner
    )
    assert (rule.points_per_unit, rule.expiry_months, rule.updated_by) == (Decimal("2.50"), 12, owner)
    audit = business_audits(business).get()
    assert audit.data == {
        "old": {"points_per_unit": "1.00", "expiry_months": None},
        "new": {"points_per_unit": "2.50", "expiry_months": 12},
    }
    with pytest.raises(ValidationError) as refused:
        services.configure_points_rule(
            business=business, points_per_unit=Decimal("-1"), expiry_months=0, actor=owner
        )
    assert set(refused.value.message_dict) == {"points_per_unit", "expiry_months"}
    assert PointsRule.objects.get().points_per_unit == Decimal("2.50")


def business_audits(business):
    from customers.models import AuditEntry

    return AuditEntry.objects.filter(business=business, action="points.rule_changed")


def test_points_expire_after_the_months_of_the_rule_less_what_was_spent(business):
    set_rule(business, expiry_months=6)
    ann = order(business, "+14155550101", "100.00")
    services.change_points(customer=ann, kind="redeem", points=30, reason="Free pizza", actor=None)
    earned = PointsEntry.objects.get(kind=Kind.EARN)
    assert earned.expires_at == services.add_months(earned.created_at, 6)
    later = order(business, "+14155550102", "50.00")

    assert services.expire_points(at=earned.expires_at - dt.timedelta(seconds=1)) == []
    written = services.expire_points(at=earned.expires_at)
    assert services.expire_points(at=earned.expires_at) == []  # expired once

    assert len(written) == 1
    assert entries(ann) == [(Kind.EARN, 100), (Kind.REDEEM, -30), (Kind.EXPIRE, -70)]
    assert balance(ann) == 0 and balance(later) == 50
    assert ann.activities.filter(kind=Activity.Kind.POINTS_CHANGED, data__entry_kind="expire").count() == 1


def test_a_month_later_is_the_last_day_of_a_shorter_month():
    assert services.add_months(dt.datetime(2026, 1, 31, 9, tzinfo=dt.UTC), 1) == dt.datetime(
        2026, 2, 28, 9, tzinfo=dt.UTC
    )
    assert services.add_months(NOW, 14) == dt.datetime(2028, 1, 30, 12, tzinfo=dt.UTC)


# Imports -------------------------------------------------------------------------------------

ORDERS = (
    "external_id,phone,amount,currency,placed_at,status,source,street,city,postal_code,country\n"
    "I-1,+1 415 555 0101,42.50,USD,2026-11-01T12:00:00Z,completed,shop,,,,\n"
    "I-2,+1 415 555 0101,10.00,USD,2026-11-02T12:00:00Z,completed,shop,,,,\n"
    "I-3,+1 415 555 0102,99.00,USD,2026-11-02T12:00:00Z,pending,shop,,,,\n"
    "I-4,+1 415 555 0103,7.00,USD,2026-11-03T12:00:00Z,completed,shop,,,,\n"
)


def test_an_import_earns_for_its_completed_orders(business, owner):
    run_import(business, csv_bytes(ORDERS), kind="orders", actor=owner)

    ann, pending, cid = (Customer.objects.get(phone=f"+1415555010{n}") for n in (1, 2, 3))
    assert (balance(ann), balance(pending), balance(cid)) == (52, 0, 7)
    assert PointsEntry.objects.filter(kind=Kind.EARN).count() == 3
    assert Activity.objects.filter(kind=Activity.Kind.POINTS_CHANGED).count() == 3


def test_earning_for_a_chunk_costs_the_same_queries_for_3_or_30_orders(business, django_assert_num_queries):
    services.points_rule(business)
    for size, prefix in ((3, "a"), (30, "b")):
        ids = [
            Order.objects.create(
                business=business,
                external_id=f"{prefix}{n}",
                customer=Customer.objects.create(business=business, phone=f"+1415555{size:02d}{n:02d}"),
                amount=Decimal("10.00"),
                status="completed",
                placed_at=NOW,
            ).pk
            for n in range(size)
        ]
        # the rule, the INSERT … SELECT, the UPDATE of the balances, the timeline lines
        with django_assert_num_queries(4):
            written = services.earn_for_orders(business=business, order_ids=ids)
        assert len(written) == size
    assert all(c.points_balance == 10 == ledger_sum(c) for c in Customer.objects.all())


# Merge and undo ------------------------------------------------------------------------------


def test_merge_and_undo_conserve_points_and_each_balance_stays_its_ledger(business, support):
    ann = order(business, "+14155550101", "40.00")
    bob = order(business, "+14155550102", "25.00")
    cid = order(business, "+14155550103", "5.00")
    services.change_points(customer=bob, kind="adjust", points=10, reason="Gift", actor=support)
    total = sum(balance(c) for c in (ann, bob, cid))

    record = customer_services.merge_customers(survivor=ann, merged=[bob, cid], reason="same", actor=support)

    assert (balance(ann), balance(bob), balance(cid)) == (80, 0, 0)
    services.change_points(customer=ann, kind="redeem", points=30, reason="Free pizza", actor=None)
    order(business, "+14155550101", "3.00")
    assert balance(ann) == 53

    customer_services.undo_merge(record=MergeRecord.objects.get(pk=record.pk), actor=support)

    assert (balance(ann), balance(bob), balance(cid)) == (13, 35, 5)
    assert balance(ann) + balance(bob) + balance(cid) == total - 30 + 3


def test_an_undo_that_would_take_spent_points_back_is_refused_with_the_reason(business, support):
    ann = order(business, "+14155550101", "5.00")
    bob = order(business, "+14155550102", "50.00")
    record = customer_services.merge_customers(survivor=ann, merged=[bob], reason="same", actor=support)
    services.change_points(customer=ann, kind="redeem", points=40, reason="Big reward", actor=None)

    with pytest.raises(ValidationError, match=f"#{ann.pk} has since spent 35 points"):
        customer_services.undo_merge(record=MergeRecord.objects.get(pk=record.pk), actor=support)

    assert MergeRecord.objects.get(pk=record.pk).undone_at is None
    assert (balance(ann), balance(bob)) == (15, 0)


# Points earned in a period (for the tiers' points thresholds) --------------------------------


def test_points_earned_in_a_period_are_its_earns_less_their_reversals(business, owner):
    ann = order(business, "+14155550101", "30.00")
    order(business, "+14155550101", "20.00")
    bob = order(business, "+14155550102", "9.00")
    services.change_points(customer=ann, kind="adjust", points=100, reason="Gift", actor=owner)
    first = Order.objects.filter(customer=ann).order_by("id").first()
    customer_services.change_order_status(order=first, status="refunded", actor=owner)
    # Entries are dated when they are written, whatever the order's date.
    now = timezone.now()
    PointsEntry.objects.filter(order__customer=bob).update(created_at=now - dt.timedelta(days=40))

    sql, params = queries.points_earned_sql(
        business_id=business.pk, since=now - dt.timedelta(days=30), at=now + dt.timedelta(minutes=1)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        assert dict(cursor.fetchall()) == {ann.pk: 20}


# Demo and concurrency ------------------------------------------------------------------------


def test_seed_demo_writes_a_ledger_consistent_with_the_orders(db):
    call_command("seed_demo", "--business", "points", "--customers", "40", "--orders", "200", "--seed", "5")

    business = Business.objects.get(slug="points")
    completed = Order.objects.filter(business=business, status="completed")
    assert PointsEntry.objects.filter(business=business, kind=Kind.EARN).count() == completed.count()
    kinds = set(PointsEntry.objects.filter(business=business).values_list("kind", flat=True))
    assert {Kind.EARN, Kind.ADJUST, Kind.REDEEM} <= kinds
    for customer in Customer.objects.filter(business=business):
        assert customer.points_balance == ledger_sum(customer) >= 0


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_earns_and_redemptions_on_one_customer_stay_exact(business):
    ann = order(business, "+14155550101", "200.00")
    barrier = threading.Barrier(50)
    refused = []

    def work(number):
        try:
            barrier.wait()
            if number % 2:
                customer_services.record_order(
                    business=business, external_id=f"C-{number}", phone=ann.phone, amount="3.00"
                )
            else:
                services.change_points(customer=ann, kind="redeem", points=7, reason="race", actor=None)
        except ValidationError:
            refused.append(number)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(number,)) for number in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert refused == []
    assert balance(ann) == 200 + 25 * 3 - 25 * 7
    assert PointsEntry.objects.filter(customer=ann).count() == 51
