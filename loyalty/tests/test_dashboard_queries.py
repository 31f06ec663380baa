"""loyalty's figures of the owner's dashboard: tiers, tier moves per local month and
lifetime value per tier, against the rows they count."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from customers import services as customer_services
from customers.models import Customer
from loyalty import queries
from loyalty.models import CustomerLifetimeValue, LifetimeValueFit, TierChange

NEW_YORK = ZoneInfo("America/New_York")


def customer(business, phone, tier="BRONZE"):
    found, _ = customer_services.get_or_create_customer(business=business, phone=phone)
    Customer.objects.filter(pk=found.pk).update(tier=tier)
    return found


def test_tier_moves_count_per_local_month_up_and_down(business, other_business):
    ann = customer(business, "+14155550101", "GOLD")
    bob = customer(business, "+14155550102", "SILVER")
    stranger = customer(other_business, "+447911123456", "PLATINUM")
    for who, old, new, moment in [
        (ann, "BRONZE", "SILVER", dt.datetime(2026, 1, 15, 12, tzinfo=dt.UTC)),
        (ann, "SILVER", "GOLD", dt.datetime(2026, 2, 1, 3, tzinfo=dt.UTC)),  # 31 January in New York
        (bob, "GOLD", "SILVER", dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)),
        (stranger, "GOLD", "PLATINUM", dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)),
        (bob, "BRONZE", "GOLD", dt.datetime(2026, 4, 1, 12, tzinfo=dt.UTC)),  # after the range
    ]:
        TierChange.objects.create(
            business=who.business, customer=who, from_tier=old, to_tier=new, cause="order", changed_at=moment
        )

    figures = queries.tier_dashboard(
        business,
        since=dt.datetime(2026, 1, 1, tzinfo=NEW_YORK),
        until=dt.datetime(2026, 4, 1, tzinfo=NEW_YORK),
        tzinfo=NEW_YORK,
    )

    assert figures["moves"] == [
        {"month": dt.date(2026, 1, 1), "up": 2, "down": 0},
        {"month": dt.date(2026, 2, 1), "up": 0, "down": 1},
    ]
    assert [(row["tier"], row["customers"]) for row in figures["distribution"]] == [
        ("BRONZE", 0),
        ("SILVER", 1),
        ("GOLD", 1),
        ("PLATINUM", 0),
    ]


def test_lifetime_value_is_averaged_per_tier_and_banded_by_predicted_value(business):
    assert queries.lifetime_value_dashboard(business) is None
    for phone, tier, current, predicted in [
        ("+14155550101", "BRONZE", "10.00", "5.00"),
        ("+14155550102", "BRONZE", "30.00", "40.00"),
        ("+14155550103", "GOLD", "300.00", "600.00"),
    ]:
        CustomerLifetimeValue.objects.create(
            business=business,
            customer=customer(business, phone, tier),
            current=Decimal(current),
            predicted_365d=Decimal(predicted),
            expected_orders_365d=1.0,
            model_version="test",
            calculated_at=dt.datetime(2026, 11, 30, tzinfo=dt.UTC),
        )

    LifetimeValueFit.objects.create(
        business=business,
        as_of=dt.date(2026, 11, 30),
        model_version="test",
        customers=3,
        repeat_customers=1,
        figures=queries.value_figures(CustomerLifetimeValue.objects.filter(business=business)),
    )
    # The figures are the fit's: a tier change after it does not move them.
    Customer.objects.filter(business=business, phone="+14155550103").update(tier="BRONZE")

    figures = queries.lifetime_value_dashboard(business)

    assert [
        (row["tier"], row["customers"], row["current"], row["predicted"]) for row in figures["tiers"]
    ] == [
        ("BRONZE", 2, Decimal("20.00"), Decimal("22.50")),
        ("GOLD", 1, Decimal("300.00"), Decimal("600.00")),
    ]
    bands = {row["label"]: row["customers"] for row in figures["distribution"]}
    assert bands["0–10"] == 1 and bands["25–50"] == 1 and bands["500+"] == 1
    assert sum(bands.values()) == 3
