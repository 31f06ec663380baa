"""Read use cases of customer lifetime value: the per-customer summary a fit runs on, a
customer's values and the CLV page."""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
from django.db import connection
from django.db.models import Avg, Count, Q, Sum
from django.utils import timezone

from customers.models import Customer, Order
from loyalty.models import (
    TIER_ORDER,
    CustomerLifetimeValue,
    LifetimeValueFit,
    Tier,
)

EPOCH = date(1970, 1, 1)
# The value bands of the CLV page's chart, in the business currency.
VALUE_BANDS = [0, 10, 25, 50, 100, 250, 500]
MONEY_FIGURES = ("current", "predicted", "total")
CENT = Decimal("0.01")


@dataclass
class LifetimeSummary:
    """One row per customer with a completed order up to `as_of`, as arrays: frequency x
    (days with an order after the first), recency t_x and age T in days, net revenue, and
    the mean value of the repeat days (NaN without one)."""

    as_of: date
    customer_ids: np.ndarray
    frequency: np.ndarray
    recency: np.ndarray
    age: np.ndarray
    current: list  # Decimal net revenue, exact for storage
    repeat_mean: np.ndarray


def day_number(sql):
    """Days since 1970-01-01 of a date expression."""
    if connection.vendor == "postgresql":
        return f"({sql} - DATE '1970-01-01')"
    return f"CAST(julianday({sql}) - 2440587.5 AS INTEGER)"


def lifetime_summary_sql(business, as_of):
    """One aggregate over the business's completed orders placed up to the end of `as_of`
    in its time zone: SQL and params. Days are the business's local days; several orders
    on one day are one purchase occasion of their total value."""
    zone = zoneinfo.ZoneInfo(business.timezone)
    ends = timezone.make_aware(datetime.combine(as_of + timedelta(days=1), time()), zone)
    local_day, day_params = connection.ops.datetime_cast_date_sql("o.placed_at", (), business.timezone)
    orders, customers = Order._meta.db_table, Customer._meta.db_table
    sql = f"""
        WITH counted AS (
            SELECT o.customer_id, {local_day} AS day, o.amount
            FROM {orders} o JOIN {customers} c ON c.id = o.customer_id
            WHERE o.business_id = %s AND o.status = %s AND o.placed_at < %s AND c.deleted_at IS NULL
        ), days AS (
            SELECT customer_id, day, SUM(amount) AS spent,
                   ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY day) AS position
            FROM counted GROUP BY customer_id, day
        )
        SELECT customer_id, COUNT(*) - 1, {day_number("MIN(day)")}, {day_number("MAX(day)")}, SUM(spent),
               SUM(CASE WHEN position > 1 THEN spent ELSE 0 END)
        FROM days GROUP BY customer_id ORDER BY customer_id
    """
    # Adapted as Django stores times (on SQLite, UTC text), so the comparison is right there too.
    ends = connection.ops.adapt_datetimefield_value(ends)
    return sql, [*day_params, business.pk, Order.Status.COMPLETED, ends]


def lifetime_summary(business, as_of):
    sql, params = lifetime_summary_sql(business, as_of)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        empty = np.zeros(0)
        return LifetimeSummary(as_of, empty.astype(np.int64), empty, empty, empty, [], empty)
    ids, frequency, first, last, current, repeat_total = zip(*rows, strict=True)
    frequency = np.asarray(frequency, dtype=float)
    first = np.asarray(first, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        repeat_mean = np.where(frequency > 0, np.asarray(repeat_total, dtype=float) / frequency, np.nan)
    return LifetimeSummary(
        as_of=as_of,
        customer_ids=np.asarray(ids, dtype=np.int64),
        frequency=frequency,
        recency=np.asarray(last, dtype=float) - first,
        age=(as_of - EPOCH).days - first,
        current=list(current),
        repeat_mean=repeat_mean,
    )


def clv_status(customer):
    """The "clv" object of `GET /api/v1/customers/{id}/loyalty`, or None before the first
    fit that saw an order of theirs."""
    value = CustomerLifetimeValue.objects.filter(customer=customer).first()
    if value is None:
        return None
    return {
        "current": f"{value.current:.2f}",
        "predicted_365d": f"{value.predicted_365d:.2f}",
        "expected_orders_365d": round(value.expected_orders_365d, 4),
        "probability_alive": None if value.probability_alive is None else round(value.probability_alive, 4),
        "model_version": value.model_version,
        "calculated_at": value.calculated_at.isoformat(),
    }


def latest_fit(business):
    return LifetimeValueFit.objects.filter(business=business).first()


def value_bands():
    """(label, low, high) of the chart's bands; the last has no upper end."""
    edges = [*VALUE_BANDS, None]
    return [
        (f"{low}–{high}" if high is not None else f"{low}+", low, high)
        for low, high in zip(edges, edges[1:], strict=False)
    ]


def value_figures(values):
    """Of the values in `values` (a CustomerLifetimeValue queryset) whose customer is live,
    per tier, bronze first (a tier without any left out): customers valued, the means of
    their current and predicted (next 365 days) value, the total predicted, and how many
    fall in each value band. One aggregate over every value, so each fit runs it once and
    keeps it, JSON-ready, as LifetimeValueFit.figures."""
    band_counts = {}
    for number, (_, low, high) in enumerate(value_bands()):
        band = Q(predicted_365d__gte=low)
        if high is not None:
            band &= Q(predicted_365d__lt=high)
        band_counts[f"band_{number}"] = Count("pk", filter=band)
    rows = {
        row["customer__tier"]: row
        for row in values.filter(customer__deleted_at__isnull=True)
        .values("customer__tier")
        .annotate(
            customers=Count("pk"),
            current=Avg("current"),
            predicted=Avg("predicted_365d"),
            total=Sum("predicted_365d"),
            **band_counts,
        )
        .order_by()
    }
    return [
        {
            "tier": tier,
            "customers": row["customers"],
            **{name: str(Decimal(row[name]).quantize(CENT)) for name in MONEY_FIGURES},
            "bands": [row[band] for band in band_counts],
        }
        for tier in TIER_ORDER
        if (row := rows.get(tier))
    ]


def fit_figures(fit):
    """The fit's value_figures, with the tier's label and money as Decimal."""
    return [
        {**row, "label": Tier(row["tier"]).label, **{name: Decimal(row[name]) for name in MONEY_FIGURES}}
        for row in fit.figures
    ]


def predicted_value_by_tier(fit):
    """For each tier as of the fit: customers valued, their mean and total predicted value
    of the next 365 days, and how many fall in each value band (with the bar's percent of
    the tier's largest band)."""
    tiers = []
    for row in fit_figures(fit):
        widest = max(row["bands"]) or 1
        tiers.append(
            {
                **row,
                "mean": row["predicted"],
                "bands": [
                    {"label": label, "count": count, "percent": round(100 * count / widest)}
                    for (label, _, _), count in zip(value_bands(), row["bands"], strict=True)
                ],
            }
        )
    return tiers


def clv_page(business):
    fit = latest_fit(business)
    return {
        "fit": fit,
        "tiers": predicted_value_by_tier(fit) if fit else [],
        "bands": [label for label, _, _ in value_bands()],
        "recent_fits": LifetimeValueFit.objects.filter(business=business)[:10],
    }


def fit_json(fit):
    """What `manage.py fit_clv` prints: the fit's parameters (time in days); null
    parameters for the simple estimate."""
    return {
        "as_of": fit.as_of.isoformat(),
        "customers": fit.customers,
        "time_unit": "day",
        "bgnbd": {
            "r": fit.r,
            "alpha": fit.alpha,
            "a": fit.a,
            "b": fit.b,
            "log_likelihood": fit.log_likelihood,
        },
        "gamma_gamma": {"p": fit.p, "q": fit.q, "gamma": fit.gamma, "customers": fit.gamma_gamma_customers},
        "model_version": fit.model_version,
    }
