"""The stored rolling figures the tiers read: kept exact after an order, a refund, a
recalculation and a merge; the what-if says as of when; a merge and its undo are TierChanges."""

import datetime as dt
from decimal import Decimal

from django.db import connection

from customers import services as customer_services
from customers.models import Activity, Order
from loyalty import queries, services
from loyalty.models import RollingFigures, TierChange
from loyalty.tests.factories import NOW, configure, order, recalculate, thresholds, tier_of

PHONE = "+14155550101"
OTHER = "+14155550102"


def figures_of(customer):
    row = RollingFigures.objects.get(customer=customer)
    return {
        "monthly": (row.spend_monthly, row.visits_monthly),
        "quarterly": (row.spend_quarterly, row.visits_quarterly),
        "yearly": (row.spend_yearly, row.visits_yearly),
    }


def money(value):
    return Decimal(value)


def test_an_order_refreshes_its_customers_figures_from_their_completed_orders(business):
    order(business, PHONE, "40.00", days_ago=200)
    order(business, PHONE, "50.00", days_ago=400)
    order(business, PHONE, "70.00", days_ago=5, status="refunded")
    order(business, PHONE, "30.00", days_ago=60)

    ann = order(business, PHONE, "20.00", days_ago=10)

    assert figures_of(ann) == {
        "monthly": (money("20.00"), 1),
        "quarterly": (money("50.00"), 2),
        "yearly": (money("90.00"), 3),
    }


def test_a_refund_takes_its_order_out_of_the_figures(business, support):
    order(business, PHONE, "15.00", days_ago=3)
    ann = order(business, PHONE, "20.00", days_ago=10)
    refunded = Order.objects.get(customer=ann, amount=Decimal("20.00"))

    customer_services.change_order_status(order=refunded, status="refunded", actor=support)

    assert figures_of(ann)["monthly"] == (money("15.00"), 1)


def test_a_recalculation_refreshes_every_customers_figures_at_its_clock(business):
    ann = order(business, PHONE, "20.00", days_ago=10)
    # A customer without a completed order gets figures of zero.
    bob = order(business, OTHER, "99.00", status="cancelled")
    later = NOW + dt.timedelta(days=25)

    recalculate(business, at=later)

    assert figures_of(ann) == {
        "monthly": (money("0.00"), 0),
        "quarterly": (money("20.00"), 1),
        "yearly": (money("20.00"), 1),
    }
    assert RollingFigures.objects.get(customer=ann).computed_at == later
    assert figures_of(bob)["yearly"] == (money("0.00"), 0)


def test_a_recalculation_leaves_the_figures_an_order_wrote_after_its_clock(business):
    order(business, PHONE, "40.00", days_ago=200)
    ann = order(business, PHONE, "20.00", days_ago=10)
    written = RollingFigures.objects.get(customer=ann).computed_at

    # A recalculation whose clock is before that order (it started before it) keeps them,
    # though its last 30 days would count both orders.
    recalculate(business, at=written - dt.timedelta(days=190))

    assert RollingFigures.objects.get(customer=ann).computed_at == written
    assert figures_of(ann)["monthly"] == (money("20.00"), 1)


def test_the_what_if_reads_the_figures_and_says_as_of_which_recalculation(business):
    configure(business, grace_days=0, silver={"spend": "10.00"})
    order(business, PHONE, "20.00", days_ago=10)
    order(business, OTHER, "20.00", days_ago=100)
    monthly = thresholds(silver={"spend": "10.00", "period": "monthly"})
    assert queries.what_if(business, thresholds=monthly, grace_days=0)["rolling_as_of"] is None

    job = recalculate(business)
    preview = queries.what_if(business, thresholds=monthly, grace_days=0)

    assert preview["rolling_as_of"] == queries.iso(job.started_at)
    assert preview["tiers"]["SILVER"] == 1 and preview["down"] == 1
    lifetime = thresholds(silver={"spend": "10.00"})
    assert queries.what_if(business, thresholds=lifetime, grace_days=0)["rolling_as_of"] is None


def test_a_merge_gives_the_survivor_the_higher_tier_as_a_tier_change_and_the_undo_takes_it_back(
    business, support
):
    configure(business, silver={"spend": "50.00", "period": "monthly"})
    ann = order(business, PHONE, "10.00", days_ago=2)
    bob = order(business, OTHER, "60.00", days_ago=2)
    assert (ann.tier, bob.tier) == ("BRONZE", "SILVER")

    record = customer_services.merge_customers(survivor=ann, merged=[bob], reason="Same", actor=support)

    assert tier_of(ann) == "SILVER"
    change = TierChange.objects.filter(customer=ann, cause="merge").get()
    assert (change.from_tier, change.to_tier, change.actor, change.reason) == (
        "BRONZE",
        "SILVER",
        support,
        "Merge: Same",
    )
    assert Activity.objects.filter(customer=ann, kind="tier_changed", data__cause="merge").count() == 1
    assert figures_of(ann)["monthly"] == (money("70.00"), 2)

    customer_services.undo_merge(record=record, actor=support)

    assert (tier_of(ann), tier_of(bob)) == ("BRONZE", "SILVER")
    undone = TierChange.objects.filter(customer=ann, cause="merge").latest("id")
    assert (undone.from_tier, undone.to_tier, undone.reason, undone.actor) == (
        "SILVER",
        "BRONZE",
        "Merge undone",
        support,
    )
    assert Activity.objects.filter(customer=ann, kind="tier_changed", data__cause="merge").count() == 2
    assert figures_of(ann)["monthly"] == (money("10.00"), 1)
    assert figures_of(bob)["monthly"] == (money("60.00"), 1)


def test_an_undo_leaves_a_tier_that_changed_since_the_merge(business, support, owner):
    configure(business, silver={"spend": "50.00"})
    ann = order(business, PHONE, "10.00")
    bob = order(business, OTHER, "60.00")
    record = customer_services.merge_customers(survivor=ann, merged=[bob], reason="Same", actor=support)
    services.override_tiers(
        business=business,
        customers=type(ann).objects.filter(pk=ann.pk),
        tier="GOLD",
        reason="Regular",
        actor=owner,
    )

    customer_services.undo_merge(record=record, actor=support)

    assert tier_of(ann) == "GOLD"
    assert TierChange.objects.filter(customer=ann, cause="merge").count() == 1


def test_re_evaluating_a_customer_after_an_order_costs_two_queries_when_no_tier_moves(
    business, django_assert_num_queries
):
    ann = order(business, PHONE, "10.00")
    # The configuration, then the refresh and the evaluation in one statement (two on SQLite).
    expected = 2 if connection.vendor == "postgresql" else 3

    with django_assert_num_queries(expected):
        services.recalculate_customers(business, [ann.pk], cause="order")

    assert figures_of(ann)["monthly"] == (money("10.00"), 1)
