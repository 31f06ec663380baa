"""The dashboard's summary tables stay equal to the orders through every way orders change:
recorded (in order and backdated), imported, status and address changes, merge and undo,
and the reconciliation repairs and reports a difference."""

import io
import random
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from customers import services, summaries
from customers.bulk import tables
from customers.models import (
    CohortActivity,
    Customer,
    DailyOrderSummary,
    Order,
    RepeatOrderMonthSummary,
    RepeatOrderSummary,
)

ZONE = "America/New_York"
ADDRESS = {"street": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}
OTHER_ADDRESS = {"street": "9 Elm St", "city": "Springfield", "postal_code": "12345", "country": "US"}


@pytest.fixture
def shop(business):
    business.timezone = ZONE
    business.save(update_fields=["timezone"])
    return business


def reference(business):
    """The summaries computed in Python from every order of the business, read plainly."""
    tz = ZoneInfo(business.timezone)
    days, cells = {}, Counter()
    first = {}
    orders = list(
        Order.objects.filter(business=business).values_list(
            "customer_id", "status", "amount", "placed_at", "original_dropoff_id", "pk"
        )
    )
    for customer_id, status, _, placed_at, _, _ in orders:
        if status == "completed" and (customer_id not in first or placed_at < first[customer_id]):
            first[customer_id] = placed_at
    active_months = set()
    for customer_id, status, amount, placed_at, original, _ in orders:
        day = placed_at.astimezone(tz).date()
        row = days.setdefault(day, Counter())
        if status == "completed":
            row["orders"] += 1
            row["revenue"] += amount
            active_months.add((customer_id, day.replace(day=1)))
        if status == "refunded":
            row["refunds"] += 1
            row["refunded_amount"] += amount
        if status == "blocked":
            row["blocked_orders"] += 1
        if original is not None:
            row["address_changes"] += 1
    for moment in first.values():
        days.setdefault(moment.astimezone(tz).date(), Counter())["new_customers"] += 1
    for customer_id, month in active_months:
        cells[first[customer_id].astimezone(tz).date().replace(day=1), month] += 1
    # Active spells: a customer is active on each order day and the 89 days after.
    order_days = {}
    for customer_id, status, _, placed_at, _, _ in orders:
        if status == "completed":
            order_days.setdefault(customer_id, set()).add(placed_at.astimezone(tz).date())
    for their_days in order_days.values():
        active = set()
        for day in their_days:
            active.update(day + timedelta(days=n) for n in range(90))
        for day in active:
            if day - timedelta(days=1) not in active:
                days.setdefault(day, Counter())["activity_starts"] += 1
            if day + timedelta(days=1) not in active:
                days.setdefault(day + timedelta(days=1), Counter())["activity_ends"] += 1
    # Each completed order by its place among its customer's and the day of the one before.
    repeats = Counter()
    completed = sorted((o for o in orders if o[1] == "completed"), key=lambda o: (o[0], o[3], o[5]))
    for number, (customer_id, _, _, placed_at, _, _) in enumerate(completed):
        day = placed_at.astimezone(tz).date()
        earlier = [o for o in completed[:number] if o[0] == customer_id]
        previous_day = earlier[-1][3].astimezone(tz).date() if earlier else day
        repeats[day, min(len(earlier) + 1, 3), previous_day] += 1
    return (
        {day: {k: v for k, v in row.items() if v} for day, row in days.items() if any(row.values())},
        dict(cells),
        dict(repeats),
    )


def stored(business):
    days = {
        row.pop("day"): {k: v for k, v in row.items() if v}
        for row in DailyOrderSummary.objects.filter(business=business).values("day", *summaries.DAY_COLUMNS)
    }
    cells = {
        (cohort, month): n
        for cohort, month, n in CohortActivity.objects.filter(business=business).values_list(
            "cohort", "month", "customers"
        )
        if n
    }
    repeats = {
        (day, ordinal, previous_day): n
        for day, ordinal, previous_day, n in RepeatOrderSummary.objects.filter(business=business).values_list(
            *summaries.REPEAT_KEYS, "orders"
        )
        if n
    }
    return {day: row for day, row in days.items() if row}, cells, repeats


def stored_months(business):
    return {
        (month, ordinal, previous_day): n
        for month, ordinal, previous_day, n in RepeatOrderMonthSummary.objects.filter(
            business=business
        ).values_list(*summaries.REPEAT_MONTH_KEYS, "orders")
        if n
    }


def assert_summaries_exact(business):
    assert stored(business) == reference(business)
    assert stored_months(business) == summaries.by_month(reference(business)[2])
    assert summaries.rebuild(business) == []


def at(*args):
    return datetime(*args, tzinfo=UTC)


def test_orders_recorded_in_any_order_keep_days_and_cohorts_exact_across_dst_and_new_year(shop):
    rng = random.Random(7)
    phones = [f"+1415555{n:04d}" for n in range(12)]
    # Around the end of DST (2 Nov 2025) and New Year, late evenings in New York (next day in UTC).
    moments = [at(2025, 11, 2, 3, 30), at(2025, 11, 3, 4, 59), at(2026, 1, 1, 4, 30), at(2026, 1, 1, 5, 30)]
    moments += [at(2025, 9, 1) + timedelta(hours=rng.randrange(24 * 200)) for _ in range(40)]
    statuses = ["completed"] * 6 + ["refunded", "cancelled", "pending"]
    for number, moment in enumerate(moments):
        services.record_order(
            business=shop,
            external_id=f"E-{number}",
            phone=rng.choice(phones),
            amount=f"{rng.randrange(100, 9000) / 100:.2f}",
            placed_at=moment,
            status=rng.choice(statuses),
            address=ADDRESS,
        )

    assert_summaries_exact(shop)
    days = stored(shop)[0]
    # 03:30 UTC on 2 Nov is 23:30 on 1 Nov in New York (still EDT), 04:59 on 3 Nov is 23:59 (EST).
    assert Order.objects.get(external_id="E-0").placed_at.astimezone(ZoneInfo(ZONE)).day == 1
    assert (
        sum(row.get("orders", 0) for row in days.values()) == Order.objects.filter(status="completed").count()
    )


def test_a_blocked_order_a_refund_and_an_address_change_move_their_days(shop, support):
    first = services.record_order(
        business=shop, external_id="A-1", phone="+14155550101", amount="30.00", placed_at=at(2026, 3, 1, 12)
    ).order
    services.record_order(
        business=shop, external_id="A-2", phone="+14155550101", amount="12.00", placed_at=at(2026, 4, 2, 12)
    )
    blocked, _ = services.get_or_create_customer(business=shop, phone="+14155550103")
    services.blacklist_customer(customer=blocked, reason="fraud", actor=support)
    services.record_order(
        business=shop, external_id="A-3", phone="+14155550103", amount="99.00", placed_at=at(2026, 3, 5, 12)
    )
    services.record_order(
        business=shop,
        external_id="A-4",
        phone="+14155550104",
        amount="9.00",
        placed_at=at(2026, 3, 6, 12),
        address=ADDRESS,
    )
    assert_summaries_exact(shop)

    services.change_order_status(order=first, status="refunded", actor=support)
    services.change_order_address(
        order=Order.objects.get(external_id="A-4"), address=OTHER_ADDRESS, actor=support
    )

    assert_summaries_exact(shop)
    days, cells, _ = stored(shop)
    march_1 = datetime(2026, 3, 1).date()
    assert days[march_1] == {"refunds": 1, "refunded_amount": Decimal("30.00")}
    # The customer's first completed order is now April's: the cohort moved.
    assert days[datetime(2026, 4, 2).date()]["new_customers"] == 1
    assert days[datetime(2026, 3, 5).date()] == {"blocked_orders": 1}
    assert days[datetime(2026, 3, 6).date()]["address_changes"] == 1
    assert cells[datetime(2026, 4, 1).date(), datetime(2026, 4, 1).date()] == 2 - 1


@contextmanager
def csv_table(text):
    with tables.open_table(io.BytesIO(text.encode()), encoding="auto") as table:
        yield table


def test_an_import_of_new_and_earlier_orders_keeps_the_summaries_exact(shop, owner):
    services.record_order(
        business=shop,
        external_id="A-1",
        phone="+14155550101",
        amount="30.00",
        placed_at=at(2026, 5, 20, 12),
        source="shop",
    )
    data = (
        "external_id,phone,amount,currency,placed_at,status,source,street,city,postal_code,country\n"
        "I-1,+14155550101,10.00,USD,2026-02-01T12:00:00Z,completed,shop,,,,\n"
        "I-2,+14155550102,20.00,USD,2026-03-01T03:00:00Z,completed,shop,,,,\n"
        "I-3,+14155550102,5.00,USD,2026-05-01T12:00:00Z,refunded,shop,,,,\n"
        "A-1,+14155550101,30.00,USD,2026-05-20T12:00:00Z,refunded,shop,,,,\n"
    )
    counts, written = services.import_rows(
        business=shop, actor=owner, kind="orders", open_table=lambda: csv_table(data)
    )

    assert written and counts.errors == 0, str(counts)
    assert_summaries_exact(shop)
    days = stored(shop)[0]
    # 03:00 UTC on 1 March is the evening of 28 February in New York.
    assert days[datetime(2026, 2, 28).date()] == {
        "orders": 1,
        "revenue": Decimal("20.00"),
        "new_customers": 1,
        "activity_starts": 1,
    }
    assert days[datetime(2026, 5, 20).date()] == {"refunds": 1, "refunded_amount": Decimal("30.00")}


def test_batches_of_orders_in_and_out_of_time_order_keep_the_summaries_exact(shop, support, monkeypatch):
    rng = random.Random(11)
    phones = [f"+1415555{n:04d}" for n in range(8)]
    blocked, _ = services.get_or_create_customer(business=shop, phone=phones[0])
    services.blacklist_customer(customer=blocked, reason="fraud", actor=support)
    statuses = ["completed"] * 5 + ["refunded", "cancelled", "pending"]
    read_orders = []
    contributions = summaries.contributions
    monkeypatch.setattr(
        summaries, "contributions", lambda *args: read_orders.append(1) or contributions(*args)
    )
    moment, number, readers = at(2025, 12, 20, 12), 0, []
    for _ in range(10):
        orders = []
        for _ in range(12):
            number += 1
            moment += timedelta(hours=rng.randrange(1, 60))
            # Now and then an order from before its customer's last one: the orders are read.
            backdated = rng.random() < 0.05
            orders.append(
                {
                    "external_id": f"B-{number}",
                    "phone": rng.choice(phones),
                    "amount": Decimal(rng.randrange(100, 9000)) / 100,
                    "placed_at": moment - timedelta(days=40) if backdated else moment,
                    "status": rng.choice(statuses),
                }
            )
        read_orders.clear()
        assert {outcome.status for outcome in services.record_orders(business=shop, orders=orders)} == {201}
        readers.append(bool(read_orders))
        assert_summaries_exact(shop)

    # Both ways were taken: counted from the customers' stats alone, and from their orders.
    assert set(readers) == {True, False}, readers
    assert stored(shop)[0] and Order.objects.filter(status="blocked").exists()


def test_a_merge_and_its_undo_move_new_customers_and_cohorts(shop, support):
    for external_id, phone, moment in [
        ("A-1", "+14155550101", at(2026, 1, 10, 12)),
        ("A-2", "+14155550101", at(2026, 3, 10, 12)),
        ("B-1", "+14155550202", at(2025, 12, 10, 12)),
        ("B-2", "+14155550202", at(2026, 3, 12, 12)),
    ]:
        services.record_order(
            business=shop, external_id=external_id, phone=phone, amount="10.00", placed_at=moment
        )
    ann, anne = (Customer.objects.get(phone=phone) for phone in ("+14155550101", "+14155550202"))
    before = stored(shop)

    record = services.merge_customers(survivor=ann, merged=[anne], reason="Same person", actor=support)

    assert_summaries_exact(shop)
    days, cells, _ = stored(shop)
    assert sum(row.get("new_customers", 0) for row in days.values()) == 1
    assert days[datetime(2025, 12, 10).date()]["new_customers"] == 1
    december, march = datetime(2025, 12, 1).date(), datetime(2026, 3, 1).date()
    assert cells == {
        (december, december): 1,
        (december, datetime(2026, 1, 1).date()): 1,
        (december, march): 1,
    }

    services.undo_merge(record=record, actor=support)

    assert_summaries_exact(shop)
    assert stored(shop) == before


def test_the_reconciliation_repairs_a_day_and_logs_the_difference(shop, caplog):
    services.record_order(
        business=shop, external_id="A-1", phone="+14155550101", amount="30.00", placed_at=at(2026, 6, 1, 12)
    )
    DailyOrderSummary.objects.filter(business=shop, orders=1).update(orders=5)
    CohortActivity.objects.filter(business=shop).delete()
    RepeatOrderSummary.objects.filter(business=shop).update(orders=2)
    RepeatOrderMonthSummary.objects.filter(business=shop).update(orders=7)

    found = summaries.rebuild(
        shop, first_day=datetime(2026, 6, 1).date(), last_day=datetime(2026, 6, 1).date()
    )

    assert found == [
        ("daily", "2026-06-01", "orders", 5, 1),
        ("cohort", "2026-06/2026-06", "customers", 0, 1),
        ("repeat", "2026-06-01/1/2026-06-01", "orders", 2, 1),
        ("repeat month", "2026-06/1/2026-06-01", "orders", 7, 1),
    ]
    assert "orders say 1" in caplog.text
    assert_summaries_exact(shop)
    assert DailyOrderSummary.objects.get(business=shop, day=datetime(2026, 6, 1).date()).reconciled_at


def test_the_summaries_of_one_business_ignore_another(shop, other_business):
    services.record_order(business=shop, external_id="A-1", phone="+14155550101", amount="30.00")
    services.record_order(business=other_business, external_id="A-1", phone="+447911123456", amount="5.00")

    assert DailyOrderSummary.objects.get(business=shop, orders=1).revenue == Decimal("30.00")
    assert DailyOrderSummary.objects.get(business=other_business, orders=1).revenue == Decimal("5.00")
    assert_summaries_exact(shop)
    assert_summaries_exact(other_business)


def test_the_reconciliation_schedule_checks_every_business(shop, other_business):
    from customers import schedules, tasks

    services.record_order(business=shop, external_id="A-1", phone="+14155550101", amount="30.00")
    services.record_order(business=other_business, external_id="B-1", phone="+447911123456", amount="5.00")
    DailyOrderSummary.objects.filter(orders=1).update(orders=9)

    tasks.reconcile_dashboard_summaries_everywhere()

    assert sorted(DailyOrderSummary.objects.values_list("orders", flat=True)) == [0, 0, 1, 1]
    recurring = schedules.RECURRING["Reconcile dashboard summaries"]
    assert (recurring.func, recurring.minutes) == (
        "customers.tasks.reconcile_dashboard_summaries_everywhere",
        15,
    )


def test_a_new_order_costs_one_upkeep_statement_and_reads_no_order(shop):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    services.record_order(business=shop, external_id="A-1", phone="+14155550101", amount="3.00")
    with CaptureQueriesContext(connection) as queries:
        # A new customer: a new day's row and a new cohort cell.
        services.record_order(business=shop, external_id="B-1", phone="+14155550102", amount="4.00")

    tables = ("dailyordersummary", "cohortactivity", "repeatordersummary", "repeatordermonthsummary")
    upkeep = [q["sql"] for q in queries if any(table in q["sql"] for table in tables)]
    assert len(upkeep) == (1 if connection.vendor == "postgresql" else 4)
    assert all(table in upkeep[0] for table in tables) or connection.vendor != "postgresql"
    assert all(sql.startswith(("INSERT", "WITH")) for sql in upkeep)
    assert_summaries_exact(shop)
