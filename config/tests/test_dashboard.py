"""The owner's dashboard: every figure equals a plain computation over the orders of a
generated business in a non-UTC time zone, across DST and New Year; the page, the CSV and
the API, their bad input, role access and tenancy."""

import csv
import io
import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from config import dashboard as page
from customers import dashboard, services
from customers.models import Customer, Order

ZONE = "America/New_York"
ADDRESS = {"street": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}
OTHER_ADDRESS = {"street": "9 Elm St", "city": "Springfield", "postal_code": "12345", "country": "US"}
CENT, RATE = Decimal("0.01"), Decimal("0.0001")
# The page's queries whatever the range (session, business, figures of both periods,
# series, cohorts, top customers, loyalty); the top customers take two more per further
# batch of lifetime spenders, at most dashboard.TOP_CANDIDATE_BATCHES.
QUERIES = 24


def at(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def shop(business):
    business.timezone = ZONE
    business.save(update_fields=["timezone"])
    return business


@pytest.fixture
def generated(shop, support):
    """About 150 orders of 30 customers from September 2025 to June 2026, every status,
    blacklisted customers, address changes, backdated orders and a merge."""
    rng = random.Random(12)
    phones = [f"+1415555{n:04d}" for n in range(30)]
    start = at(2025, 9, 1)
    statuses = ["completed"] * 8 + ["refunded", "cancelled", "pending"]
    for number in range(150):
        if number == 60:
            for phone in phones[:3]:
                customer, _ = services.get_or_create_customer(business=shop, phone=phone)
                services.blacklist_customer(customer=customer, reason="fraud", actor=support)
        services.record_order(
            business=shop,
            external_id=f"G-{number}",
            phone=rng.choice(phones),
            amount=f"{rng.randrange(100, 12000) / 100:.2f}",
            placed_at=start + timedelta(minutes=rng.randrange(60 * 24 * 300)),
            status=rng.choice(statuses),
            address=ADDRESS,
        )
    for order in Order.objects.filter(business=shop).order_by("pk")[:150:9]:
        services.change_order_address(order=order, address=OTHER_ADDRESS, actor=support)
    for order in Order.objects.filter(business=shop, status="completed").order_by("pk")[:150:13]:
        services.change_order_status(order=order, status="refunded", actor=support)
    survivor, merged = Customer.objects.filter(business=shop, order_count__gt=0).order_by("pk")[3:5]
    services.merge_customers(survivor=survivor, merged=[merged], reason="Same person", actor=support)
    return shop


class Reference:
    """The dashboard's figures computed plainly from every order of the business."""

    def __init__(self, business):
        self.tz = ZoneInfo(business.timezone)
        self.orders = list(
            Order.objects.filter(business=business).values(
                "customer_id", "status", "amount", "placed_at", "original_dropoff_id"
            )
        )
        for order in self.orders:
            order["day"] = order["placed_at"].astimezone(self.tz).date()
        self.completed = [o for o in self.orders if o["status"] == "completed"]
        self.first = {}
        for order in sorted(self.completed, key=lambda o: o["placed_at"]):
            self.first.setdefault(order["customer_id"], order["day"])

    def in_range(self, orders, start, end):
        return [o for o in orders if start <= o["day"] <= end]

    def kpis(self, start, end):
        completed = self.in_range(self.completed, start, end)
        revenue = sum((o["amount"] for o in completed), Decimal(0))
        active = {o["customer_id"] for o in completed}
        orders_up_to_end = Counter(o["customer_id"] for o in self.completed if o["day"] <= end)
        repeat = sum(1 for customer in active if orders_up_to_end[customer] >= 2)

        def rate(a, b):
            return (Decimal(a) / Decimal(b)).quantize(RATE, ROUND_HALF_UP) if b else Decimal("0.0000")

        return {
            "revenue": revenue.quantize(CENT),
            "orders": len(completed),
            "aov": (revenue / len(completed)).quantize(CENT, ROUND_HALF_UP) if completed else Decimal("0.00"),
            "active_customers": len(active),
            "new_customers": sum(1 for day in self.first.values() if start <= day <= end),
            "repeat_customer_rate": rate(repeat, len(active)),
            "avg_orders_per_customer": rate(len(completed), len(active)),
            "blocked_orders": len(
                [o for o in self.in_range(self.orders, start, end) if o["status"] == "blocked"]
            ),
            "refunds": len([o for o in self.in_range(self.orders, start, end) if o["status"] == "refunded"]),
            "address_changes": len(
                [o for o in self.in_range(self.orders, start, end) if o["original_dropoff_id"]]
            ),
        }

    def per_day(self, start, end):
        revenue, orders = defaultdict(Decimal), Counter()
        for order in self.in_range(self.completed, start, end):
            revenue[order["day"]] += order["amount"]
            orders[order["day"]] += 1
        return revenue, orders

    def cohort_cell(self, cohort, month):
        return len(
            {
                o["customer_id"]
                for o in self.completed
                if self.first[o["customer_id"]].replace(day=1) == cohort and o["day"].replace(day=1) == month
            }
        )

    def top(self, period):
        """[(customer id, spent)] of the biggest spenders of the range."""
        spent = defaultdict(Decimal)
        for order in self.in_range(self.completed, period.start, period.end):
            spent[order["customer_id"]] += order["amount"]
        return sorted(spent.items(), key=lambda item: (-item[1], item[0]))[: dashboard.TOP_CUSTOMERS]

    def active_on(self, day):
        """Customers with a completed order on the local day or the 89 days before."""
        return len({o["customer_id"] for o in self.completed if day - timedelta(days=89) <= o["day"] <= day})


PERIODS = [
    dashboard.Period(date(2025, 9, 1), date(2026, 6, 30)),
    # By month, part months at both ends: days from the day rows, whole months from the month rows.
    dashboard.Period(date(2025, 9, 15), date(2026, 6, 10)),
    # Across the end of DST (2 Nov 2025) and New Year, by day and by week.
    dashboard.Period(date(2025, 10, 20), date(2025, 11, 15)),
    dashboard.Period(date(2025, 12, 20), date(2026, 1, 10)),
    dashboard.Period(date(2025, 11, 1), date(2026, 3, 31)),
    dashboard.Period(date(2026, 2, 1), date(2026, 2, 28)),
]


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: f"{p.start}..{p.end}")
def test_every_figure_equals_the_orders(generated, period):
    reference = Reference(generated)

    figures = dashboard.figures(generated, period)

    expected = reference.kpis(period.start, period.end)
    assert {key: figures["kpis"][key] for key in expected} == expected
    assert {key: figures["previous"][key] for key in expected} == reference.kpis(
        period.previous.start, period.previous.end
    )
    revenue, orders = reference.per_day(period.start, period.end)
    assert dashboard.daily_figures(generated, period) == [
        (day, revenue[day].quantize(CENT), orders[day]) for day in period.each_day()
    ]
    for bucket in figures["series"]:
        assert {key: bucket[key] for key in expected if key in bucket} == {
            key: value
            for key, value in reference.kpis(bucket["start"], bucket["end"]).items()
            if key in ("revenue", "orders", "new_customers", "blocked_orders", "refunds", "address_changes")
            or key == "active_customers"
        }
        assert bucket["returning_customers"] == bucket["active_customers"] - bucket["new_customers"]
        so_far = sum(1 for day in reference.first.values() if day <= bucket["end"])
        active = reference.active_on(bucket["end"])
        assert bucket["churn_customers"] == so_far
        expected_churn = (Decimal(so_far - active) / so_far).quantize(RATE, ROUND_HALF_UP) if so_far else 0
        assert bucket["churn_rate"] == expected_churn
    for row in figures["cohorts"]:
        assert row["size"] == sum(
            1 for day in reference.first.values() if day.replace(day=1) == row["cohort"]
        )
        for cell in row["months"]:
            if cell is not None:
                assert cell["customers"] == reference.cohort_cell(row["cohort"], cell["month"])
    assert [(row["customer_id"], row["spent"]) for row in figures["top_customers"]] == reference.top(period)


@pytest.mark.parametrize("candidates, batches", [(2, 100), (3, 1)], ids=["by-lifetime-spend", "grouped"])
def test_the_top_customers_are_the_same_found_either_way(generated, monkeypatch, candidates, batches):
    monkeypatch.setattr(dashboard, "TOP_CANDIDATES", candidates)
    monkeypatch.setattr(dashboard, "TOP_CANDIDATE_BATCHES", batches)
    reference = Reference(generated)

    for period in PERIODS:
        top = dashboard.top_customers(generated, period)
        assert [(row["customer_id"], row["spent"]) for row in top] == reference.top(period)


def test_the_cohort_table_counts_the_last_twelve_cohorts_from_their_first_order(shop):
    # Ann starts in November 2025 (the evening of 31 Oct in UTC is still October in New York).
    for external_id, phone, moment in [
        ("A-1", "+14155550101", at(2025, 11, 1, 3)),
        ("A-2", "+14155550101", at(2025, 11, 20, 12)),
        ("A-3", "+14155550101", at(2026, 1, 5, 12)),
        ("B-1", "+14155550202", at(2025, 11, 2, 12)),
        ("C-1", "+14155550303", at(2025, 12, 31, 12)),
        ("C-2", "+14155550303", at(2026, 1, 1, 4, 30)),  # 23:30 on 31 December in New York
    ]:
        services.record_order(
            business=shop, external_id=external_id, phone=phone, amount="10", placed_at=moment
        )

    rows = dashboard.cohorts(shop, dashboard.Period(date(2026, 1, 1), date(2026, 1, 31)))

    assert [row["cohort"] for row in rows] == [date(2025, month, 1) for month in range(2, 13)] + [
        date(2026, 1, 1)
    ]
    by_cohort = {row["cohort"]: row for row in rows}
    october, november, december = (by_cohort[date(2025, month, 1)] for month in (10, 11, 12))
    assert october["size"] == 1  # Ann's first order: 23:00 on 31 October in New York
    assert [cell and cell["customers"] for cell in october["months"][:4]] == [1, 1, 0, 1]
    assert november["size"] == 1 and november["months"][0]["share"] == Decimal("1.0000")
    assert december["size"] == 1
    assert [cell and cell["customers"] for cell in december["months"][:3]] == [1, 0, None]


def test_the_csv_has_the_contract_metrics_then_revenue_and_orders_per_day(shop, owner, client_for):
    services.record_order(
        business=shop,
        external_id="A-1",
        phone="+14155550101",
        amount="30.00",
        placed_at=at(2026, 1, 1, 4, 30),
    )
    services.record_order(
        business=shop,
        external_id="A-2",
        phone="+14155550101",
        amount="12.50",
        placed_at=at(2026, 1, 1, 5, 30),
    )

    response = client_for(owner).get("/dashboard.csv?start=2025-12-31&end=2026-01-01")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = [tuple(row) for row in csv.reader(io.StringIO(response.content.decode()))]
    assert rows == [
        ("metric", "value"),
        ("revenue", "42.50"),
        ("orders", "2"),
        ("aov", "21.25"),
        ("active_customers", "1"),
        ("new_customers", "1"),
        ("repeat_customer_rate", "1.0000"),
        ("avg_orders_per_customer", "2.0000"),
        ("blocked_orders", "0"),
        ("refunds", "0"),
        ("revenue:2025-12-31", "30.00"),
        ("orders:2025-12-31", "1"),
        ("revenue:2026-01-01", "12.50"),
        ("orders:2026-01-01", "1"),
    ]


@pytest.mark.parametrize(
    "query, field",
    [
        ("start=2026-02-30&end=2026-03-01", "start"),
        ("start=yesterday", "start"),
        ("start=2026-03-02&end=2026-03-01", "end"),
        ("start=2020-01-01&end=2026-01-01", "end"),
        ("start=0001-01-01", "start"),
    ],
)
def test_bad_dates_are_a_clear_400_on_the_page_the_csv_and_the_api(
    shop, owner, client_for, client, query, field
):
    page_response = client_for(owner).get(f"/?{query}")
    assert page_response.status_code == 400
    assert field in page_response.context["errors"]
    assert 'role="alert"' in page_response.content.decode()

    csv_response = client_for(owner).get(f"/dashboard.csv?{query}")
    assert csv_response.status_code == 400
    assert csv_response.content.decode().startswith(f"{field}: ")

    _, key = services.create_api_key(business=shop, name="bi", actor=owner)
    api_response = client.get(f"/api/v1/dashboard?{query}", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api_response.status_code == 400
    assert list(api_response.json()["errors"]) == [field]


def test_the_api_answers_the_csv_figures_for_the_key_business(shop, other_business, owner, client):
    services.record_order(
        business=shop, external_id="A-1", phone="+14155550101", amount="30.00", placed_at=at(2026, 3, 1, 12)
    )
    services.record_order(
        business=other_business,
        external_id="B-1",
        phone="+447911123456",
        amount="500.00",
        placed_at=at(2026, 3, 1, 12),
    )
    _, key = services.create_api_key(business=shop, name="bi", actor=owner)

    response = client.get(
        "/api/v1/dashboard?start=2026-03-01&end=2026-03-02", HTTP_AUTHORIZATION=f"Bearer {key}"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["metrics"]["revenue"] == "30.00"
    assert body["metrics"]["orders"] == 1
    assert body["metrics"]["repeat_customer_rate"] == "0.0000"
    assert body["days"] == [
        {"day": "2026-03-01", "revenue": "30.00", "orders": 1},
        {"day": "2026-03-02", "revenue": "0.00", "orders": 0},
    ]
    assert [
        list(row) for row in page.export_rows(shop, dashboard.Period(date(2026, 3, 1), date(2026, 3, 2)))
    ][:2] == [
        ["revenue", "30.00"],
        ["orders", "1"],
    ]
    assert client.get("/api/v1/dashboard").status_code == 401


def test_only_owners_see_the_dashboard_and_its_csv(shop, support, compliance, client_for):
    for member in (support, compliance):
        assert client_for(member).get("/").status_code == 302
        assert client_for(member).get("/dashboard.csv").status_code == 403


def test_the_page_shows_the_range_cards_charts_with_tables_and_definitions(
    shop, owner, client_for, django_assert_num_queries
):
    services.record_order(business=shop, external_id="A-1", phone="+14155550101", amount="30.00")
    blocked, _ = services.get_or_create_customer(business=shop, phone="+14155550103")
    services.blacklist_customer(customer=blocked, reason="fraud", actor=owner)
    services.record_order(business=shop, external_id="A-3", phone="+14155550103", amount="99.00")

    client = client_for(owner)
    client.get("/")  # the session's first request also reads the user and membership
    today = timezone.localdate(timezone=ZoneInfo(ZONE))
    year = f"/?start={today - timedelta(days=364)}&end={today}"
    with django_assert_num_queries(QUERIES):
        assert client.get(year).status_code == 200
    with django_assert_num_queries(QUERIES):
        response = client.get("/")

    assert response.status_code == 200
    cards = {card["metric"]: card for card in response.context["cards"]}
    assert cards["revenue"]["value"] == "30.00" and cards["revenue"]["unit"] == "USD"
    assert cards["orders"]["value"] == "1" and cards["orders"]["change"] == "new"
    assert cards["blocked_orders"]["value"] == "1"
    assert cards["blacklisted_customers"]["value"] == "1"
    html = response.content.decode()
    for title in ("Revenue per day", "New and returning customers", "Blocked orders per day", "Churn rate"):
        assert title in html
    assert html.count('<svg class="chart"') >= 6
    assert html.count("<summary>Numbers</summary>") >= 6
    assert "Cohort retention" in html and "How the figures are counted" in html
    assert "style=" not in html.split("<main", 1)[1]
    assert response.context["period"] == dashboard.Period(today - timedelta(days=29), today)


def test_another_business_orders_never_reach_the_figures(shop, other_business, owner, client_for):
    services.record_order(business=other_business, external_id="B-1", phone="+447911123456", amount="500.00")

    response = client_for(owner).get("/")

    cards = {card["metric"]: card for card in response.context["cards"]}
    assert cards["revenue"]["value"] == "0.00"
    assert response.context["top_customers"] == []


def test_an_app_adds_a_section_for_the_range_and_none_hides_it(shop, owner, client_for):
    from customers import dashboard_sections

    seen = []

    def sizes(business, period):
        seen.append((business, period))
        return {"message": "unused"} if business == shop else None

    dashboard_sections.register("components/empty_state.html", sizes, order=5)
    try:
        response = client_for(owner).get("/?start=2026-01-01&end=2026-01-31")
    finally:
        dashboard_sections.DASHBOARD_SECTIONS.unregister("components/empty_state.html")

    assert seen == [(shop, dashboard.Period(date(2026, 1, 1), date(2026, 1, 31)))]
    assert response.content.decode().count('<div class="dashboard-app-section">') == 1
