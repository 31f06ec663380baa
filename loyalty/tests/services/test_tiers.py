"""The tier rules: thresholds by kind and period, the order of tiers, grace, overrides, audit,
the what-if against the save, upgrades after orders, and a plain reference recalculation."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum

from customers import services as customer_services
from customers.models import Activity, AuditEntry, Customer, Order
from loyalty import queries, services
from loyalty.models import PointsEntry, TierChange, TierConfigAudit, TierRecalculation, TierState
from loyalty.services import tiers as tier_services
from loyalty.signals import tiers_changed
from loyalty.tests.factories import NOW, configure, order, recalculate, thresholds, tier_of

PHONE = "+14155550101"
OTHER = "+14155550102"

# kind -> (threshold, how a customer meets it 10 days ago, and 100 days ago only)
KIND_CASES = {
    "spend": ({"spend": "50.00"}, [("60.00", 10)], [("60.00", 100)]),
    "visits": ({"visits": 2}, [("1.00", 10), ("1.00", 12)], [("1.00", 100), ("1.00", 120)]),
}
PERIOD_REACH = {"monthly": 30, "quarterly": 91, "yearly": 365, "lifetime": 100_000}


@pytest.mark.parametrize("period", list(PERIOD_REACH))
@pytest.mark.parametrize("kind", list(KIND_CASES))
def test_a_threshold_counts_only_the_completed_orders_of_its_period(business, kind, period):
    threshold, recent, old = KIND_CASES[kind]
    configure(business, silver={**threshold, "period": period})
    fresh = recent_customer = None
    for amount, days in recent:
        recent_customer = order(business, PHONE, amount, days_ago=days)
    for amount, days in old:
        fresh = order(business, OTHER, amount, days_ago=days)
    # Refunded and cancelled orders never count.
    order(business, "+14155550103", "500.00", days_ago=5, status="refunded")
    order(business, "+14155550103", "500.00", days_ago=5, status="cancelled")

    recalculate(business)

    assert tier_of(recent_customer) == "SILVER"
    old_counts = 100 <= PERIOD_REACH[period]
    assert tier_of(fresh) == ("SILVER" if old_counts else "BRONZE")
    assert Customer.objects.get(phone="+14155550103").tier == "BRONZE"


@pytest.mark.parametrize("period", ["monthly", "lifetime"])
def test_a_points_threshold_counts_the_points_earned_in_its_period_not_the_balance(business, owner, period):
    configure(business, grace_days=0, silver={"points": 100, "period": period})
    earned = order(business, PHONE, "100.00")  # 1 point per 1.00
    gifted = order(business, OTHER, "99.00")
    services.change_points(customer=gifted, kind="adjust", points=500, reason="Gift", actor=owner)
    long_ago = order(business, "+14155550103", "150.00")
    PointsEntry.objects.filter(customer=long_ago).update(created_at=NOW - dt.timedelta(days=40))
    refunded = order(business, "+14155550104", "120.00")
    customer_services.change_order_status(order=refunded.orders.get(), status="refunded", actor=owner)

    recalculate(business)

    assert (tier_of(earned), tier_of(gifted), tier_of(refunded)) == ("SILVER", "BRONZE", "BRONZE")
    assert tier_of(long_ago) == ("SILVER" if period == "lifetime" else "BRONZE")


def test_every_set_threshold_must_be_met_and_the_highest_qualified_tier_wins(business):
    configure(
        business,
        silver={"spend": "10.00"},
        gold={"spend": "100.00", "visits": 3},
        platinum={"spend": "1000.00", "visits": 3},
    )
    rich_once = order(business, PHONE, "5000.00", days_ago=3)
    for days in (1, 2, 3):
        regular = order(business, OTHER, "40.00", days_ago=days)

    recalculate(business)

    assert tier_of(rich_once) == "SILVER"
    assert tier_of(regular) == "GOLD"


@pytest.mark.parametrize(
    "config, field",
    [
        (thresholds(silver={"spend": "500.00"}, gold={"spend": "200.00"}), "gold"),
        (thresholds(silver={"spend": "100.00"}, gold={"spend": "100.00"}), "gold"),
        (thresholds(gold={"spend": "100.00"}), "gold"),
        (
            thresholds(
                silver={"spend": "100.00"},
                gold={"spend": "900.00", "period": "yearly"},
                platinum={"spend": "800.00"},
            ),
            "platinum",
        ),
        (thresholds(silver={"spend": "-1"}), "silver"),
        (thresholds(silver={"spend": "1.001"}), "silver"),
        (thresholds(silver={"visits": "many"}), "silver"),
        (thresholds(silver={"visits": 2, "period": "weekly"}), "silver"),
    ],
)
def test_a_configuration_where_a_higher_tier_is_easier_or_values_are_wrong_is_refused(
    business, owner, config, field
):
    with pytest.raises(ValidationError) as raised:
        services.configure_tiers(
            business=business, thresholds=config, grace_days=90, reason="Try", actor=owner
        )

    assert field in raised.value.message_dict
    assert not TierConfigAudit.objects.exists()


def test_a_higher_tier_over_a_shorter_period_may_ask_for_less(business, owner):
    config = thresholds(
        silver={"spend": "1000.00", "period": "yearly"}, gold={"spend": "500.00", "period": "monthly"}
    )

    services.configure_tiers(
        business=business, thresholds=config, grace_days=90, reason="Seasonal", actor=owner
    )

    assert services.tier_configuration(business).thresholds["gold"]["spend"] == "500.00"


def test_a_saved_configuration_is_audited_with_old_new_who_and_why_and_starts_a_recalculation(
    business, owner
):
    old = services.configuration_json(services.tier_configuration(business))
    config = thresholds(silver={"spend": "20.00"})

    configuration, job = services.configure_tiers(
        business=business, thresholds=config, grace_days=30, reason="Cheaper silver", actor=owner
    )

    audit = TierConfigAudit.objects.get()
    assert (audit.old, audit.changed_by, audit.reason) == (old, owner, "Cheaper silver")
    assert audit.new == {**config, "grace_days": 30}
    assert AuditEntry.objects.filter(business=business, action="tiers.configured", actor=owner).exists()
    assert TierRecalculation.objects.get(pk=job.pk).status == "queued"


def test_a_configuration_needs_a_reason(business, owner):
    with pytest.raises(ValidationError) as raised:
        services.configure_tiers(
            business=business, thresholds=thresholds(), grace_days=90, reason=" ", actor=owner
        )

    assert "reason" in raised.value.message_dict


def test_the_recalculation_writes_a_tier_change_and_a_timeline_entry_only_for_customers_who_move(business):
    configure(business, silver={"spend": "50.00"})
    mover = order(business, PHONE, "60.00")
    stayer = order(business, OTHER, "10.00")
    sent = []
    tiers_changed.connect(
        lambda sender, signal, **kwargs: sent.append(kwargs), weak=False, dispatch_uid="test"
    )
    try:
        configure(business, silver={"spend": "5.00"})
        job = recalculate(business)
    finally:
        tiers_changed.disconnect(dispatch_uid="test")

    assert job.status == "done" and (job.rows_done, job.total_rows) == (2, 2)
    assert tier_of(stayer) == "SILVER"
    assert list(
        TierChange.objects.filter(cause="recalculation").values_list("customer", "from_tier", "to_tier")
    ) == [(stayer.pk, "BRONZE", "SILVER")]
    assert Activity.objects.filter(kind="tier_changed", customer=stayer).count() == 1
    assert (
        not Activity.objects.filter(kind="tier_changed", customer=mover).exclude(data__cause="order").exists()
    )
    assert sent == [{"business_id": business.pk, "customer_ids": [stayer.pk]}]


def test_an_order_upgrades_its_customer_at_once(business):
    configure(business, silver={"spend": "50.00"})
    order(business, PHONE, "30.00")

    ann = order(business, PHONE, "30.00")

    assert ann.tier == "SILVER"
    change = TierChange.objects.get(customer=ann)
    assert (change.from_tier, change.to_tier, change.cause) == ("BRONZE", "SILVER", "order")
    assert Activity.objects.get(customer=ann, kind="tier_changed").data["to"] == "SILVER"


def test_a_customer_below_their_tier_keeps_it_for_the_grace_days_then_drops(business):
    configure(business, grace_days=90, silver={"spend": "50.00", "period": "monthly"})
    ann = order(business, PHONE, "60.00", days_ago=1)
    assert ann.tier == "SILVER"

    first = NOW + dt.timedelta(days=40)
    recalculate(business, at=first)
    assert tier_of(ann) == "SILVER"
    assert TierState.objects.get(customer=ann).below_since == first
    status = queries.tier_status(ann, at=first)
    assert status["tier_source"] == "grace"
    assert status["downgrade_on"] == (first + dt.timedelta(days=90)).date().isoformat()

    recalculate(business, at=first + dt.timedelta(days=89))
    assert tier_of(ann) == "SILVER"

    recalculate(business, at=first + dt.timedelta(days=90))
    assert tier_of(ann) == "BRONZE"
    assert TierChange.objects.filter(customer=ann).latest("id").cause == "grace_ended"
    assert not TierState.objects.filter(customer=ann).exists()


def test_qualifying_again_during_the_grace_ends_it(business):
    configure(business, grace_days=90, silver={"spend": "50.00", "period": "monthly"})
    ann = order(business, PHONE, "60.00", days_ago=1)
    recalculate(business, at=NOW + dt.timedelta(days=40))
    assert TierState.objects.filter(customer=ann).exists()

    order(business, PHONE, "60.00", days_ago=-45)
    recalculate(business, at=NOW + dt.timedelta(days=50))

    assert tier_of(ann) == "SILVER"
    assert not TierState.objects.filter(customer=ann).exists()


def test_without_grace_a_customer_drops_at_the_first_recalculation(business):
    configure(business, grace_days=0, silver={"spend": "50.00", "period": "monthly"})
    ann = order(business, PHONE, "60.00", days_ago=1)

    recalculate(business, at=NOW + dt.timedelta(days=40))

    assert tier_of(ann) == "BRONZE"


def test_an_override_stays_through_recalculations_and_its_expiry_applies_the_computed_tier(business, owner):
    configure(business, silver={"spend": "50.00"})
    ann = order(business, PHONE, "60.00")
    expires = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)

    services.override_tiers(
        business=business,
        customers=Customer.objects.filter(pk=ann.pk),
        tier="PLATINUM",
        reason="VIP guest",
        expires_at=expires,
        actor=owner,
    )
    recalculate(business)

    assert tier_of(ann) == "PLATINUM"
    assert queries.tier_status(ann)["tier_source"] == "override"
    assert queries.tier_status(ann)["override_expires_at"].startswith("2030-01-01")
    override = TierChange.objects.get(customer=ann, cause="override")
    assert (override.from_tier, override.to_tier, override.reason, override.actor) == (
        "SILVER",
        "PLATINUM",
        "VIP guest",
        owner,
    )

    assert services.expire_overrides(at=expires - dt.timedelta(seconds=1)) == 0
    assert services.expire_overrides(at=expires) == 1

    assert tier_of(ann) == "SILVER"
    assert TierChange.objects.filter(customer=ann).latest("id").cause == "override_expired"
    assert Activity.objects.filter(customer=ann, kind="tier_changed").count() == 3
    assert queries.tier_status(ann)["tier_source"] == "computed"


def test_an_override_needs_a_reason_and_a_known_tier(business, owner):
    ann = order(business, PHONE)
    with pytest.raises(ValidationError) as raised:
        services.override_tiers(
            business=business,
            customers=Customer.objects.filter(pk=ann.pk),
            tier="DIAMOND",
            reason="",
            actor=owner,
        )
    assert set(raised.value.message_dict) == {"tier", "reason"}


def test_an_override_never_reaches_another_business(business, other_business, owner):
    theirs = order(other_business, PHONE)

    count = services.override_tiers(
        business=business, customers=Customer.objects.all(), tier="GOLD", reason="Bulk", actor=owner
    )

    assert count == 0 and tier_of(theirs) == "BRONZE"


def test_the_next_tier_shows_each_threshold_with_value_requirement_remaining_and_percent(business):
    configure(business, silver={"spend": "100.00", "visits": 4})
    ann = order(business, PHONE, "25.00")

    assert queries.tier_status(ann)["next_tier"] == {
        "tier": "SILVER",
        "requirements": [
            {"kind": "spend", "value": "25.00", "required": "100.00", "remaining": "75.00", "percent": 25.0},
            {"kind": "visits", "value": 1, "required": 4, "remaining": 3, "percent": 25.0},
        ],
    }


def test_the_what_if_equals_what_the_save_then_does(business, owner):
    configure(business, grace_days=0, silver={"spend": "10.00"}, gold={"spend": "100.00"})
    rng = random.Random(7)
    for number in range(40):
        for _ in range(rng.randint(0, 4)):
            order(business, f"+1415555{number:04d}", f"{rng.randint(1, 80)}.00", days_ago=rng.randint(0, 400))
    proposed = thresholds(
        silver={"spend": "50.00", "period": "yearly"}, gold={"spend": "120.00", "visits": 2}
    )

    preview = queries.what_if(business, thresholds=proposed, grace_days=0)
    before = queries.tier_distribution(business)
    _, job = services.configure_tiers(
        business=business, thresholds=proposed, grace_days=0, reason="New", actor=owner
    )
    services.run_recalculation(job.pk)

    after = queries.tier_distribution(business)
    assert preview["today"] == before
    assert preview["tiers"] == after
    changes = TierChange.objects.filter(cause__in=["recalculation", "grace_ended"])
    ranks = ["BRONZE", "SILVER", "GOLD", "PLATINUM"]
    assert preview["up"] == sum(1 for c in changes if ranks.index(c.to_tier) > ranks.index(c.from_tier))
    assert preview["down"] == sum(1 for c in changes if ranks.index(c.to_tier) < ranks.index(c.from_tier))
    assert preview["up"] + preview["down"] > 0


def reference_tier(customer, config):
    """The tier by the plain definition, one ORM aggregate per tier."""
    tier = "BRONZE"
    for name in ("silver", "gold", "platinum"):
        rule = config[name]
        wanted = {kind: rule[kind] for kind in ("spend", "visits", "points") if rule[kind] is not None}
        if not wanted:
            continue
        completed = Q(status=Order.Status.COMPLETED)
        if rule["period"] != "lifetime":
            days = {"monthly": 30, "quarterly": 91, "yearly": 365}[rule["period"]]
            completed &= Q(placed_at__gte=NOW - dt.timedelta(days=days))
        got = customer.orders.filter(completed).aggregate(spend=Sum("amount", default=0), visits=Count("id"))
        entries = customer.points_entries.filter(kind__in=["earn", "reverse"])
        if rule["period"] != "lifetime":
            entries = entries.filter(created_at__gte=NOW - dt.timedelta(days=days))
        got["points"] = entries.aggregate(points=Sum("points", default=0))["points"]
        if all(Decimal(str(got[kind])) >= Decimal(str(value)) for kind, value in wanted.items()):
            tier = name.upper()
    return tier


def test_a_recalculation_agrees_with_a_plain_reference_on_a_generated_business(business, monkeypatch):
    config = thresholds(
        silver={"spend": "40.00", "period": "quarterly"},
        gold={"spend": "150.00", "visits": 3, "period": "yearly"},
        platinum={"spend": "300.00", "visits": 5, "points": 50},
    )
    configure(business, grace_days=0)
    rng = random.Random(11)
    for number in range(60):
        phone = f"+1415556{number:04d}"
        for _ in range(rng.randint(0, 7)):
            status = rng.choice(["completed"] * 4 + ["refunded", "cancelled"])
            order(
                business,
                phone,
                f"{rng.randint(1, 120)}.{rng.randint(0, 99):02d}",
                days_ago=rng.randint(0, 500),
                status=status,
            )
    # Chunks of a few ids: every id range refreshes and evaluates only its own customers.
    monkeypatch.setattr(tier_services, "RECALCULATION_CHUNK", 7)
    configure(business, grace_days=0, **config)
    recalculate(business)

    for customer in Customer.objects.filter(business=business):
        assert customer.tier == reference_tier(customer, config), customer.phone


def test_the_nightly_task_queues_a_recalculation_for_every_business(business, other_business):
    from loyalty.tasks import recalculate_tiers_everywhere

    recalculate_tiers_everywhere()

    assert set(TierRecalculation.objects.values_list("business", flat=True)) == {
        business.pk,
        other_business.pk,
    }


def test_a_merge_moves_the_tier_history_to_the_survivor_and_the_undo_moves_it_back(business, support):
    from customers import services as customer_services

    configure(business, silver={"spend": "50.00"})
    ann = order(business, PHONE, "60.00")
    bob = order(business, OTHER, "60.00")
    record = customer_services.merge_customers(survivor=ann, merged=[bob], reason="Same", actor=support)
    assert TierChange.objects.filter(customer=ann).count() == 2

    customer_services.undo_merge(record=record, actor=support)

    assert TierChange.objects.filter(customer=bob).count() == 1
