"""Fitting and scoring a business's customer lifetime values from its stored orders."""

import zoneinfo
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.utils import timezone

from customers.models import AuditEntry, Customer, Order
from loyalty import queries, services
from loyalty.models import CustomerLifetimeValue, LifetimeValueFit
from loyalty.tests.cdnow import CALIBRATION_END, calibration_summary, purchases
from loyalty.tests.test_clv_cdnow import BGNBD_PUBLISHED, GAMMA_GAMMA_PUBLISHED


def at(day, hour=12, zone="UTC"):
    return timezone.make_aware(datetime.combine(day, time(hour)), zoneinfo.ZoneInfo(zone))


def store_orders(business, history):
    """history: {customer number: [(placed_at, amount, status), ...]} -> {number: customer}."""
    customers = Customer.objects.bulk_create(
        Customer(business=business, phone=f"+1202{number:07d}") for number in history
    )
    by_number = dict(zip(history, customers, strict=True))
    Order.objects.bulk_create(
        Order(
            business=business,
            customer=by_number[number],
            external_id=f"{number}-{position}",
            amount=amount,
            currency="USD",
            status=status,
            placed_at=placed_at,
        )
        for number, orders in history.items()
        for position, (placed_at, amount, status) in enumerate(orders)
    )
    return by_number


def cdnow_business(business):
    history = {}
    for number, day, amount in purchases():
        history.setdefault(number, []).append((at(day), amount, Order.Status.COMPLETED))
    return store_orders(business, history)


def test_the_cdnow_orders_of_a_business_fit_to_the_published_parameters_with_alpha_in_days(business, owner):
    cdnow_business(business)

    fit = services.fit_lifetime_values(business=business, actor=owner, as_of=CALIBRATION_END)

    assert (fit.model_version, fit.customers, fit.repeat_customers) == (services.MODEL_VERSION, 2357, 946)
    assert fit.alpha / 7 == pytest.approx(BGNBD_PUBLISHED["alpha"], rel=0.01)
    for name in ("r", "a", "b"):
        assert getattr(fit, name) == pytest.approx(BGNBD_PUBLISHED[name], rel=0.01), name
    for name, published in GAMMA_GAMMA_PUBLISHED.items():
        assert getattr(fit, name) == pytest.approx(published, rel=0.01), name
    assert fit.gamma_gamma_customers == 946
    assert CustomerLifetimeValue.objects.filter(business=business).count() == 2357


def test_the_summary_query_counts_what_the_paper_counts(business):
    cdnow_business(business)

    summary = queries.lifetime_summary(business, CALIBRATION_END)

    frequency, recency, age, repeat_mean = calibration_summary(unit_days=1)
    assert summary.frequency.tolist() == frequency
    assert summary.recency.tolist() == recency
    assert summary.age.tolist() == age
    assert np.nan_to_num(summary.repeat_mean) == pytest.approx(repeat_mean)


def test_only_orders_up_to_the_as_of_day_count_and_age_is_measured_to_it(business, owner):
    as_of = date(2026, 6, 30)
    ann = store_orders(
        business,
        {
            1: [
                (at(date(2026, 6, 1)), Decimal("10.00"), Order.Status.COMPLETED),
                (at(date(2026, 6, 11)), Decimal("20.00"), Order.Status.COMPLETED),
                (at(date(2026, 7, 1), hour=0), Decimal("500.00"), Order.Status.COMPLETED),
            ]
        },
    )[1]

    summary = queries.lifetime_summary(business, as_of)

    assert summary.customer_ids.tolist() == [ann.pk]
    assert (summary.frequency[0], summary.recency[0], summary.age[0]) == (1, 10, 29)
    assert summary.current == [Decimal("30.00")]
    assert summary.repeat_mean[0] == 20


def test_days_are_the_business_s_local_days(business):
    business.timezone = "America/Los_Angeles"
    business.save()
    # 23:30 in Los Angeles on the as-of day is the next day in UTC: it counts.
    late = at(date(2026, 6, 30), hour=23, zone="America/Los_Angeles") + timedelta(minutes=30)
    store_orders(
        business,
        {
            1: [
                (
                    at(date(2026, 6, 30), hour=8, zone="America/Los_Angeles"),
                    Decimal("5.00"),
                    Order.Status.COMPLETED,
                ),
                (late, Decimal("7.00"), Order.Status.COMPLETED),
            ]
        },
    )

    summary = queries.lifetime_summary(business, date(2026, 6, 30))

    # Both orders fall on one local day: one purchase occasion of their total.
    assert (summary.frequency[0], summary.age[0], summary.current[0]) == (0, 0, Decimal("12.00"))


def test_orders_not_completed_deleted_customers_and_other_businesses_do_not_count(business, other_business):
    day = date(2026, 6, 1)
    mine = store_orders(
        business,
        {
            1: [(at(day), Decimal("10.00"), status) for status in Order.Status if status != "completed"],
            2: [(at(day), Decimal("10.00"), Order.Status.COMPLETED)],
            3: [(at(day), Decimal("10.00"), Order.Status.COMPLETED)],
        },
    )
    Customer.objects.filter(pk=mine[3].pk).update(deleted_at=timezone.now())
    store_orders(other_business, {4: [(at(day), Decimal("10.00"), Order.Status.COMPLETED)]})

    summary = queries.lifetime_summary(business, date(2026, 6, 30))

    assert summary.customer_ids.tolist() == [mine[2].pk]


def test_the_api_s_clv_object_shows_the_fit_s_values_for_the_customer(business, owner):
    customers = cdnow_business(business)
    fit = services.fit_lifetime_values(business=business, actor=owner, as_of=CALIBRATION_END)
    customer = customers[2]  # two purchase days in the calibration period, one after it

    status = queries.clv_status(customer)

    value = CustomerLifetimeValue.objects.get(customer=customer)
    assert status == {
        "current": f"{value.current:.2f}",
        "predicted_365d": f"{value.predicted_365d:.2f}",
        "expected_orders_365d": pytest.approx(value.expected_orders_365d),
        "probability_alive": pytest.approx(value.probability_alive),
        "model_version": services.MODEL_VERSION,
        "calculated_at": fit.fitted_at.isoformat(),
    }
    calibration = [amount for number, day, amount in purchases() if number == 2 and day <= CALIBRATION_END]
    assert Decimal(status["current"]) == sum(calibration)
    assert 0 < status["probability_alive"] < 1
    assert Decimal(status["predicted_365d"]) > 0


def test_a_customer_without_an_order_up_to_the_as_of_day_has_no_clv(business, owner):
    customers = store_orders(
        business, {1: [(at(date(2026, 6, 1)), Decimal("10.00"), Order.Status.COMPLETED)]}
    )
    services.fit_lifetime_values(business=business, actor=owner, as_of=date(2026, 6, 30))
    assert queries.clv_status(customers[1]) is not None

    # A later fit as of an earlier day replaces every value: this customer had no order then.
    services.fit_lifetime_values(business=business, actor=owner, as_of=date(2026, 5, 31))

    assert queries.clv_status(customers[1]) is None
    assert not CustomerLifetimeValue.objects.filter(business=business).exists()


def test_too_little_history_gets_the_simple_estimate_labelled_as_such(business, owner):
    day = date(2026, 1, 1)
    customers = store_orders(
        business,
        {
            1: [
                (at(day), Decimal("10.00"), Order.Status.COMPLETED),
                (at(day + timedelta(days=30)), Decimal("30.00"), Order.Status.COMPLETED),
            ],
            2: [(at(day + timedelta(days=60)), Decimal("50.00"), Order.Status.COMPLETED)],
        },
    )

    fit = services.fit_lifetime_values(business=business, actor=owner, as_of=day + timedelta(days=90))

    assert fit.model_version == services.SIMPLE_VERSION
    assert fit.note == "Simple estimate: 1 customers with a repeat order; the model needs 200."
    assert (fit.r, fit.alpha, fit.p) == (None, None, None)
    # One repeat purchase in 90 + 30 observed customer-days, for everyone; each at their own mean value.
    rate = 1 / 120 * 365
    ann, bob = (CustomerLifetimeValue.objects.get(customer=customers[number]) for number in (1, 2))
    assert ann.expected_orders_365d == bob.expected_orders_365d == pytest.approx(rate, abs=1e-4)
    assert ann.predicted_365d == Decimal(f"{rate * 20:.2f}")
    assert bob.predicted_365d == Decimal(f"{rate * 50:.2f}")
    assert ann.probability_alive is None
    assert queries.clv_status(customers[1])["model_version"] == services.SIMPLE_VERSION


def test_a_fit_that_does_not_converge_falls_back_to_the_simple_estimate(business, owner):
    # 250 customers who all bought twice, ten days apart, ten days ago: no spread to fit.
    day = date(2026, 6, 1)
    store_orders(
        business,
        {
            number: [
                (at(day), Decimal("10.00"), Order.Status.COMPLETED),
                (at(day + timedelta(days=10)), Decimal("10.00"), Order.Status.COMPLETED),
            ]
            for number in range(250)
        },
    )

    fit = services.fit_lifetime_values(business=business, actor=owner, as_of=day + timedelta(days=10))

    assert fit.model_version == services.SIMPLE_VERSION
    assert fit.note.startswith("Simple estimate: The model's fit did not converge")
    assert CustomerLifetimeValue.objects.filter(business=business).count() == 250


def test_every_fit_is_kept_and_audited(business, owner):
    store_orders(business, {1: [(at(date(2026, 6, 1)), Decimal("10.00"), Order.Status.COMPLETED)]})

    fit = services.fit_lifetime_values(business=business, actor=owner, as_of=date(2026, 6, 30))

    assert list(LifetimeValueFit.objects.filter(business=business)) == [fit]
    entry = AuditEntry.objects.get(business=business, action="clv.fitted")
    assert (entry.actor, entry.target) == (owner, "as of 2026-06-30")
    assert entry.data["model_version"] == services.SIMPLE_VERSION and entry.data["customers"] == 1


def test_the_default_as_of_day_is_today_in_the_business_s_time_zone(business):
    business.timezone = "Pacific/Kiritimati"
    business.save()

    fit = services.fit_lifetime_values(business=business, actor=None)

    assert fit.as_of == timezone.localdate(timezone=zoneinfo.ZoneInfo("Pacific/Kiritimati"))
    assert fit.customers == 0
