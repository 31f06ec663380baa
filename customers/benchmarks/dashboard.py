"""Figures of the owner's dashboard for `manage.py bench`: the whole page of 30 days and of
12 months (no cache of any kind: every request reads the summaries and the orders' index),
each beside the direct SQL aggregates of its KPIs over the orders, with a check that both
give the same figures; and the order API with the summary upkeep against without it."""

from datetime import timedelta
from unittest import mock

from django.test import Client

from customers import dashboard, services, summaries
from customers.benchmarks.customers import ingestion_figure
from customers.benchmarks.harness import Figure, allowed_host, fetch, get_page
from customers.models import Customer, Order


def figures(context):
    business = context.business
    client = context.client_for(context.users["owner"])
    today = dashboard.default_period(business).end
    # The raw baselines (api.orders today, the merge figures over past days, in earlier runs
    # too) insert orders by hand, behind the upkeep's back: the year measured is rebuilt first.
    summaries.rebuild(business, first_day=today - timedelta(days=365), last_day=today, report=False)
    for name, days in (("dashboard.page_30d", 30), ("dashboard.page_12m", 365)):
        if not context.wants(name):
            continue
        period = dashboard.Period(today - timedelta(days=days - 1), today)
        url = f"/?start={period.start}&end={period.end}"
        yield Figure(
            name,
            lambda run, url=url: get_page(client, url),
            lambda run, period=period: sql_figures(business, period),
            note=lambda period=period: equality_note(business, period),
        )
    if context.wants("api.orders_summary_upkeep"):
        yield upkeep_figure(context)


def sql_figures(business, period):
    """The KPIs and the revenue and orders per day, by hand from the orders."""
    since, until = dashboard.bounds(business, period)
    orders, customers = Order._meta.db_table, Customer._meta.db_table
    totals = fetch(
        f"""SELECT COUNT(*) FILTER (WHERE status = 'completed'),
                   COALESCE(SUM(amount) FILTER (WHERE status = 'completed'), 0),
                   COUNT(DISTINCT customer_id) FILTER (WHERE status = 'completed'),
                   COUNT(*) FILTER (WHERE status = 'blocked'),
                   COUNT(*) FILTER (WHERE status = 'refunded')
            FROM {orders} WHERE business_id = %s AND placed_at >= %s AND placed_at < %s""",
        [business.pk, since, until],
    )[0]
    new = fetch(
        f"""SELECT COUNT(*) FROM {customers}
            WHERE business_id = %s AND first_order_at >= %s AND first_order_at < %s""",
        [business.pk, since, until],
    )[0][0]
    days = fetch(
        f"""SELECT (placed_at AT TIME ZONE %s)::date AS day, SUM(amount), COUNT(*)
            FROM {orders}
            WHERE business_id = %s AND status = 'completed' AND placed_at >= %s AND placed_at < %s
            GROUP BY 1 ORDER BY 1""",
        [business.timezone or "UTC", business.pk, since, until],
    )
    return {
        "orders": totals[0],
        "revenue": totals[1],
        "active_customers": totals[2],
        "blocked_orders": totals[3],
        "refunds": totals[4],
        "new_customers": new,
        "days": {day: (revenue, count) for day, revenue, count in days},
    }


def equality_note(business, period):
    """Whether the dashboard's figures equal the SQL's (the bench fails otherwise)."""
    expected = sql_figures(business, period)
    kpis = dashboard.kpis(business, period)
    days = {
        day: (revenue, orders) for day, revenue, orders in dashboard.daily_figures(business, period) if orders
    }
    differences = [name for name in expected if name != "days" and kpis[name] != expected[name]]
    if days != expected.pop("days"):
        differences.append("revenue/orders per day")
    if differences:
        raise AssertionError(f"dashboard figures differ from the SQL: {', '.join(differences)}")
    return f"figures equal the SQL ({kpis['orders']} orders)"


def upkeep_figure(context):
    """POST /api/v1/orders as api.orders, against the same without the summary upkeep."""
    business = context.business
    sample = list(Customer.objects.live().filter(business=business).order_by("?")[:50])
    api_key, secret = services.create_api_key(business=business, name="bench-dashboard", actor=None)
    client = Client(HTTP_HOST=allowed_host())
    with_upkeep = ingestion_figure(
        client, business, sample, secret, runs=10 * context.repeat, rng=context.rng
    )

    def without_upkeep(run):
        with mock.patch.object(summaries, "add_new_order", lambda *args: None):
            with_upkeep.ours(run)

    def repaired():
        # The orders recorded without upkeep are today's: the reconciliation puts them in.
        summaries.reconcile_recent_days(business)
        services.revoke_api_key(api_key=api_key, actor=None)
        return "ratio = with upkeep / without; summaries repaired after"

    return Figure(
        "api.orders_summary_upkeep",
        with_upkeep.ours,
        without_upkeep,
        runs=10 * context.repeat,
        unit="orders",
        note=repaired,
    )
