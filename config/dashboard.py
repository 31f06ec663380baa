"""The owner's dashboard page, composed from the apps' queries: customers' figures of the
range (customers.dashboard), loyalty's tiers and lifetime value, and the sections other
apps register (customers.dashboard_sections). Also the CSV and JSON of the figures."""

from datetime import timedelta

from django.utils import timezone
from django.utils.formats import date_format

from config import charts
from customers import dashboard, dashboard_sections, normalize
from customers.api.schemas import DATE, INTEGER, MONEY, STRING, array, obj
from loyalty import queries as loyalty_queries

# (metric, label, kind, hint) of the KPI cards, in their order.
CARDS = [
    ("revenue", "Revenue", "money", "completed orders"),
    ("orders", "Orders", "count", "completed"),
    ("aov", "Average order value", "money", "revenue / orders"),
    ("active_customers", "Active customers", "count", "with a completed order"),
    ("new_customers", "New customers", "count", "first completed order"),
    ("repeat_customer_rate", "Repeat customer rate", "rate", "of active customers"),
    ("avg_orders_per_customer", "Orders per customer", "ratio", "orders / active customers"),
    ("blocked_orders", "Blocked orders", "count", "from blacklisted customers"),
    ("blacklisted_customers", "Blacklisted", "count", "customers blacklisted in the range"),
    ("refunds", "Refunds", "count", "refunded orders"),
]
# Fewer is better for these: a rise shows in red.
LOWER_IS_BETTER = {"blocked_orders", "blacklisted_customers", "refunds"}


def shown(value, kind):
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "ratio":
        return f"{value:.2f}"
    return f"{value:,}"


def change_text(change, kind, current):
    if change is None:
        return ("new", "up") if current else ("no change", "flat")
    if kind in ("rate", "ratio"):
        scaled = change * 100 if kind == "rate" else change
        text = f"{scaled:+.1f} pts" if kind == "rate" else f"{scaled:+.2f}"
    else:
        text = f"{change * 100:+.1f}%"
    return text, "up" if change > 0 else "down" if change < 0 else "flat"


def kpi_cards(figures, currency):
    cards = []
    for metric, label, kind, hint in CARDS:
        text, direction = change_text(figures["changes"][metric], kind, figures["kpis"][metric])
        good = direction == "flat" or (direction == "up") != (metric in LOWER_IS_BETTER)
        cards.append(
            {
                "metric": metric,
                "label": label,
                "value": shown(figures["kpis"][metric], kind),
                "unit": currency if kind == "money" else "",
                "previous": shown(figures["previous"][metric], kind),
                "change": text,
                "direction": direction,
                "tone": "flat" if direction == "flat" else "good" if good else "bad",
                "hint": hint,
            }
        )
    return cards


def bucket_label(entry, bucket):
    if bucket == "month":
        return date_format(entry["start"], "M Y")
    return date_format(entry["start"], "j M")


def bucket_range(entry, bucket):
    if bucket == "day":
        return date_format(entry["start"], "D j M Y")
    return f"{date_format(entry['start'], 'j M Y')} – {date_format(entry['end'], 'j M Y')}"


def order_charts(figures, currency):
    period = figures["period"]
    rows = figures["series"]
    bucket = period.bucket
    labels = [bucket_label(row, bucket) for row in rows]
    per = {"day": "day", "week": "week", "month": "month"}[bucket]
    return [
        {
            "id": "revenue",
            "title": f"Revenue per {per} ({currency})",
            "svg": charts.bar_chart(
                "Revenue", labels, [("revenue", [r["revenue"] for r in rows], "series-1")], kind="money"
            ),
            "columns": [per.capitalize(), f"Revenue ({currency})", "Orders"],
            "rows": [(bucket_range(r, bucket), f"{r['revenue']:,.2f}", r["orders"]) for r in rows],
        },
        {
            "id": "orders",
            "title": f"Orders per {per}",
            "svg": charts.bar_chart("Orders", labels, [("orders", [r["orders"] for r in rows], "series-2")]),
            "columns": [per.capitalize(), "Orders"],
            "rows": [(bucket_range(r, bucket), r["orders"]) for r in rows],
        },
        {
            "id": "new-returning",
            "title": f"New and returning customers per {per}",
            "legend": [("New", "series-1"), ("Returning", "series-3")],
            "svg": charts.bar_chart(
                "New and returning customers",
                labels,
                [
                    ("new", [r["new_customers"] for r in rows], "series-1"),
                    ("returning", [r["returning_customers"] for r in rows], "series-3"),
                ],
                stacked=True,
            ),
            "columns": [per.capitalize(), "New", "Returning", "Active"],
            "rows": [
                (bucket_range(r, bucket), r["new_customers"], r["returning_customers"], r["active_customers"])
                for r in rows
            ],
        },
        {
            "id": "blocked",
            "title": f"Blocked orders per {per}",
            "svg": charts.bar_chart(
                "Blocked orders", labels, [("blocked", [r["blocked_orders"] for r in rows], "series-danger")]
            ),
            "columns": [per.capitalize(), "Blocked orders"],
            "rows": [(bucket_range(r, bucket), r["blocked_orders"]) for r in rows],
        },
        {
            "id": "churn",
            "title": "Churn rate (no order for more than 90 days)",
            "svg": charts.line_chart(
                "Churn rate",
                labels,
                [("churned", [r["churn_rate"] for r in rows], "series-4")],
                kind="percent",
            ),
            "columns": ["At the end of", "Churn rate", "Customers so far"],
            "rows": [
                (date_format(r["end"], "j M Y"), f"{r['churn_rate'] * 100:.2f}%", r["churn_customers"])
                for r in rows
            ],
        },
        {
            "id": "address-changes",
            "title": f"Address changes mid-delivery per {per}",
            "svg": charts.bar_chart(
                "Address changes", labels, [("changed", [r["address_changes"] for r in rows], "series-5")]
            ),
            "columns": [per.capitalize(), "Orders whose address changed"],
            "rows": [(bucket_range(r, bucket), r["address_changes"]) for r in rows],
        },
    ]


def loyalty_charts(business, figures, currency):
    since, until = dashboard.bounds(business, figures["period"])
    tiers = loyalty_queries.tier_dashboard(
        business, since=since, until=until, tzinfo=normalize.zone(business.timezone)
    )
    found = [
        {
            "id": "tiers",
            "title": "Customers per tier (now)",
            "svg": charts.bar_chart(
                "Customers per tier",
                [row["label"] for row in tiers["distribution"]],
                [("customers", [row["customers"] for row in tiers["distribution"]], "series-1")],
            ),
            "columns": ["Tier", "Customers"],
            "rows": [(row["label"], row["customers"]) for row in tiers["distribution"]],
        },
        {
            "id": "tier-moves",
            "title": "Tier upgrades and downgrades per month",
            "legend": [("Upgrades", "series-2"), ("Downgrades", "series-danger")],
            "svg": charts.bar_chart(
                "Tier moves",
                [date_format(row["month"], "M Y") for row in tiers["moves"]],
                [
                    ("upgrades", [row["up"] for row in tiers["moves"]], "series-2"),
                    ("downgrades", [row["down"] for row in tiers["moves"]], "series-danger"),
                ],
            ),
            "columns": ["Month", "Upgrades", "Downgrades"],
            "rows": [(date_format(row["month"], "M Y"), row["up"], row["down"]) for row in tiers["moves"]],
            "empty": not tiers["moves"],
        },
    ]
    value = loyalty_queries.lifetime_value_dashboard(business)
    if value is not None:
        fitted_on = date_format(timezone.localtime(value["fit"].fitted_at), "j M Y")
        found += [
            {
                "id": "clv-tiers",
                "title": f"Average lifetime value per tier ({currency})",
                "legend": [("Current", "series-3"), ("Predicted, next 365 days", "series-1")],
                "svg": charts.bar_chart(
                    "Average lifetime value per tier",
                    [row["label"] for row in value["tiers"]],
                    [
                        ("current", [row["current"] for row in value["tiers"]], "series-3"),
                        ("predicted", [row["predicted"] for row in value["tiers"]], "series-1"),
                    ],
                    kind="money",
                ),
                "columns": ["Tier", "Customers", "Current", "Predicted (365 days)"],
                "rows": [
                    (row["label"], row["customers"], f"{row['current']:,.2f}", f"{row['predicted']:,.2f}")
                    for row in value["tiers"]
                ],
                "note": (
                    f"As of the model's fit on {fitted_on}, by the tiers customers had then; "
                    "the model is fitted again every night."
                ),
            },
            {
                "id": "clv-distribution",
                "title": f"Customers by predicted value, next 365 days ({currency})",
                "svg": charts.bar_chart(
                    "Customers by predicted value",
                    [row["label"] for row in value["distribution"]],
                    [("customers", [row["customers"] for row in value["distribution"]], "series-3")],
                ),
                "columns": ["Predicted value", "Customers"],
                "rows": [(row["label"], row["customers"]) for row in value["distribution"]],
            },
        ]
    return found


def cohort_rows(cohorts):
    """The cohort table's rows, each cell with a heat class of its share (0 to 10)."""
    rows = []
    for row in cohorts:
        cells = [
            None if cell is None else {**cell, "heat": min(10, int(cell["share"] * 10))}
            for cell in row["months"]
        ]
        rows.append({**row, "months": cells})
    return rows


def presets(business):
    """Quick ranges ending today: (label, start, end)."""
    today = dashboard.default_period(business).end
    return [
        (label, today - timedelta(days=days - 1), today)
        for label, days in (("7 days", 7), ("30 days", 30), ("90 days", 90), ("12 months", 365))
    ]


def page_context(business, period, *, with_loyalty):
    figures = dashboard.figures(business, period)
    currency = business.currency
    return {
        "period": period,
        "previous": period.previous,
        "cards": kpi_cards(figures, currency),
        "order_charts": order_charts(figures, currency),
        "loyalty_charts": loyalty_charts(business, figures, currency) if with_loyalty else [],
        "cohorts": cohort_rows(figures["cohorts"]),
        "presets": presets(business),
        "cohort_months": range(dashboard.COHORTS),
        "top_customers": figures["top_customers"],
        "freshness": figures["freshness"],
        "blacklisted_now": figures["blacklisted_now"],
        "refunded_amount": figures["kpis"]["refunded_amount"],
        "sections": dashboard_sections.sections_for(business, period),
        "time_zone": business.timezone or "UTC",
        "now": timezone.now(),
    }


def export_rows(business, period):
    """(metric, value) rows of the CSV: the contract's metrics, then revenue and orders per day."""
    figures = dashboard.kpis(business, period)
    rows = [(metric, str(figures[metric])) for metric in dashboard.METRICS]
    for day, revenue, orders in dashboard.daily_figures(business, period):
        rows += [(f"revenue:{day.isoformat()}", str(revenue)), (f"orders:{day.isoformat()}", str(orders))]
    return rows


EXPORT_JSON_SCHEMA = obj(
    {
        "start": DATE,
        "end": DATE,
        "time_zone": STRING,
        "currency": STRING,
        "metrics": obj({metric: {"type": ["integer", "string"]} for metric in dashboard.METRICS}),
        "days": array(obj({"day": DATE, "revenue": MONEY, "orders": INTEGER})),
    }
)


def export_json(business, period):
    figures = dashboard.kpis(business, period)
    return {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "time_zone": business.timezone or "UTC",
        "currency": business.currency,
        "metrics": {
            metric: figures[metric] if isinstance(figures[metric], int) else str(figures[metric])
            for metric in dashboard.METRICS
        },
        "days": [
            {"day": day.isoformat(), "revenue": str(revenue), "orders": orders}
            for day, revenue, orders in dashboard.daily_figures(business, period)
        ],
    }
