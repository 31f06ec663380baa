"""Read use cases of the loyalty tiers: a customer's tier status and progress, the what-if of
a configuration, the tier distribution, the audit history and the recalculation jobs."""


import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
from django.db import connection
from django.db.models import Avg, Count, Q, Sum
from django.utils import timezone

from customers.models import Customer, Order
from loyalty import tiers
from loyalty.models import (
    PERIOD_DAYS,
    TIER_ORDER,
    CustomerLifetimeValue,
    LifetimeValueFit,
    Period,
    TierConfigAudit,
    TierConfiguration,
    TierRecalculation,
    TierState,
)

AUDITS_PER_PAGE = 50


def configuration_of(business):
    """The stored configuration, or the defaults that the first write will store."""
    configuration = TierConfiguration.objects.filter(business=business).first()
    return configuration or TierConfiguration(
        business=business, thresholds=tiers.DEFAULT_THRESHOLDS, grace_days=tiers.DEFAULT_GRACE_DAYS
    )


def iso(moment):
    return timezone.localtime(moment).isoformat() if moment else None


def tier_status(customer, *, at=None):
    """The tier part of `GET /api/v1/customers/{id}/loyalty`: "tier", "tier_source",
    "override_expires_at", "downgrade_on", "next_tier"."""
    panel = tier_panel(customer, at=at)
    return {
        key: panel[key] for key in ("tier", "tier_source", "override_expires_at", "downgrade_on", "next_tier")
    }


def tier_panel(customer, *, at=None):
    """tier_status plus what the profile says beside it: the override's reason and the tier
    a customer in grace drops to. Two queries, three with rolling periods."""
    at = at or timezone.now()
    configuration = configuration_of(customer.business)
    state = TierState.objects.filter(customer=customer).first()
    thresholds = configuration.thresholds
    figures = customer_figures(customer, thresholds, at)
    source, downgrade_on, downgrade_to = "computed", None, None
    if state and state.override_tier:
        source = "override"
    elif state and state.below_since:
        source = "grace"
        downgrade_on = timezone.localtime(state.below_since + timedelta(days=configuration.grace_days)).date()
        downgrade_to = qualified_tier(thresholds, figures)
    return {
        "tier": customer.tier,
        "tier_source": source,
        "override_expires_at": iso(state.override_expires_at) if source == "override" else None,
        "downgrade_on": downgrade_on.isoformat() if downgrade_on else None,
        "next_tier": next_tier(customer.tier, thresholds, figures),
        "override_reason": state.override_reason if source == "override" else "",
        "downgrade_to": downgrade_to,
    }


def customer_figures(customer, thresholds, at):
    """{period: {"spend", "visits", "points"}} of the customer for every period the thresholds use."""
    figures = {
        Period.LIFETIME: {
            "spend": customer.total_spent,
            "visits": customer.order_count,
            "points": customer.points_balance,
        }
    }
    periods = tiers.order_columns(thresholds)
    if periods:
        sums = {}
        for period in periods:
            recent = Q(placed_at__gte=at - timedelta(days=PERIOD_DAYS[period]))
            sums[f"spend_{period}"] = Sum("amount", filter=recent, default=Decimal("0"))
            sums[f"visits_{period}"] = Count("id", filter=recent)
        oldest = at - timedelta(days=max(PERIOD_DAYS[period] for period in periods))
        row = Order.objects.filter(
            customer=customer, status=Order.Status.COMPLETED, placed_at__gte=oldest
        ).aggregate(**sums)
        for period in periods:
            figures[period] = {
                "spend": row[f"spend_{period}"],
                "visits": row[f"visits_{period}"],
                "points": customer.points_balance,
            }
    return figures


def requirements(tier_thresholds, figures):
    """Each threshold set for a tier, with the customer's value, what remains and the percent."""
    result = []
    values = figures[tier_thresholds["period"]]
    for kind in tiers.KINDS:
        required = tier_thresholds[kind]
        if required is None:
            continue
        value = values[kind]
        if kind == "spend":
            required, value = Decimal(required), Decimal(value)
            remaining = max(Decimal("0"), required - value)
            shown = {"value": f"{value:.2f}", "required": f"{required:.2f}", "remaining": f"{remaining:.2f}"}
        else:
            remaining = max(0, required - value)
            shown = {"value": value, "required": required, "remaining": remaining}
        percent = min(100.0, round(float(Decimal(value) * 100 / Decimal(required)), 2))
        result.append({"kind": kind, **shown, "percent": max(0.0, percent), "met": remaining == 0})
    return result


def qualified_tier(thresholds, figures):
    for tier in reversed(TIER_ORDER[1:]):
        needed = requirements(thresholds[tiers.key(tier)], figures)
        if needed and all(item["met"] for item in needed):
            return tier
    return TIER_ORDER[0]


def next_tier(tier, thresholds, figures):
    """The tier above `tier` with the progress of each of its thresholds, or None at the top
    or when that tier has no thresholds."""
    rank = TIER_ORDER.index(tier)
    if rank + 1 >= len(TIER_ORDER):
        return None
    above = TIER_ORDER[rank + 1]
    needed = requirements(thresholds[tiers.key(above)], figures)
    if not needed:
        return None
    return {"tier": above, "requirements": [{k: v for k, v in item.items() if k != "met"} for item in needed]}


def what_if(business, *, thresholds, grace_days, at=None):
    """What a recalculation under these thresholds would do now, in one set-based query:
    {"tiers": {tier: customers}, "up": n, "down": n, "today": {tier: customers}}."""
    at = at or timezone.now()
    select, params = tiers.evaluation_sql(
        business_id=business.pk, thresholds=thresholds, grace_days=grace_days, at=at
    )
    down = (
        f"{tiers.RANK_OF_TIER.format(column='e.new_tier')} < {tiers.RANK_OF_TIER.format(column='e.old_tier')}"
    )
    up = (
        f"{tiers.RANK_OF_TIER.format(column='e.new_tier')} > {tiers.RANK_OF_TIER.format(column='e.old_tier')}"
    )
    sql = (
        f"SELECT e.new_tier, e.old_tier, COUNT(*), SUM(CASE WHEN {up} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {down} THEN 1 ELSE 0 END) FROM ({select}) e GROUP BY e.new_tier, e.old_tier"
    )
    counts = {tier: 0 for tier in TIER_ORDER}
    today = {tier: 0 for tier in TIER_ORDER}
    moved_up = moved_down = 0
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for new_tier, old_tier, customers, ups, downs in cursor.fetchall():
            counts[new_tier] += customers
            today[old_tier] += customers
            moved_up += ups or 0
            moved_down += downs or 0
    return {"tiers": counts, "today": today, "up": moved_up, "down": moved_down}


def tier_distribution(business):
    """{tier: live customers}, bronze first."""
    rows = dict(
        Customer.objects.filter(business=business)
        .live()
        .values_list("tier")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {tier: rows.get(tier, 0) for tier in TIER_ORDER}


def audits(business, *, before=None):
    """A page of the configuration's audit rows, newest first, before the audit id `before`;
    (rows, id of the next page's cursor or None)."""
    limit = AUDITS_PER_PAGE
    rows = TierConfigAudit.objects.filter(business=business).select_related("changed_by").order_by("-id")
    if before is not None:
        rows = rows.filter(id__lt=before)
    rows = list(rows[: limit + 1])
    return rows[:limit], (rows[limit - 1].pk if len(rows) > limit else None)


def recent_recalculations(business, limit=5):
    return list(
        TierRecalculation.objects.filter(business=business)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )


EPOCH = date(1970, 1, 1)
# The value bands of the CLV page's chart, in the business currency.
VALUE_BANDS = [0, 10, 25, 50, 100, 250, 500]


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


def predicted_value_by_tier(business):
    """For each tier: customers valued, their mean and total predicted value of the next
    365 days, and how many fall in each value band (with the bar's percent of the tier's
    largest band): one aggregate."""
    values = CustomerLifetimeValue.objects.filter(business=business)
    bands = value_bands()
    band_counts = {}
    for number, (_, low, high) in enumerate(bands):
        band = {"predicted_365d__gte": low}
        if high is not None:
            band["predicted_365d__lt"] = high
        band_counts[f"band_{number}"] = Count("pk", filter=Q(**band))
    rows = {
        row["customer__tier"]: row
        for row in values.values("customer__tier")
        .annotate(
            customers=Count("pk"), mean=Avg("predicted_365d"), total=Sum("predicted_365d"), **band_counts
        )
        .order_by()
    }
    tiers = []
    for tier, label in Customer.Tier.choices:
        row = rows.get(tier)
        if row is None:
            continue
        counts = [row[f"band_{number}"] for number in range(len(bands))]
        widest = max(counts) or 1
        tiers.append({
            "tier": tier,
            "label": label,
            "customers": row["customers"],
            "mean": row["mean"],
            "total": row["total"],
            "bands": [
                {"label": band[0], "count": count, "percent": round(100 * count / widest)}
                for band, count in zip(bands, counts, strict=True)
            ],
        })
    return tiers


def clv_page(business):
    fit = latest_fit(business)
    return {
        "fit": fit,
        "tiers": predicted_value_by_tier(business) if fit else [],
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
            "r": fit.r, "alpha": fit.alpha, "a": fit.a, "b": fit.b, "log_likelihood": fit.log_likelihood
        },
        "gamma_gamma": {"p": fit.p, "q": fit.q, "gamma": fit.gamma, "customers": fit.gamma_gamma_customers},
        "model_version": fit.model_version,
    }
