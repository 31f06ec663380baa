"""Read use cases of the loyalty tiers: a customer's tier status and progress, the what-if of
a configuration, the tier distribution, the audit history and the recalculation jobs."""

from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, Sum
from django.utils import timezone

from customers.models import Customer, Order
from loyalty import tiers
from loyalty.models import (
    PERIOD_DAYS,
    TIER_ORDER,
    Period,
    PointsEntry,
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


def points_earned(customer, thresholds, at):
    """{period: points earned} of the customer for each period a points threshold uses (see
    loyalty.tiers): one query, none without a points threshold."""
    periods = tiers.points_periods(thresholds)
    if not periods:
        return {}
    sums = {
        period: Sum(
            "points",
            filter=None
            if period == Period.LIFETIME
            else Q(created_at__gte=at - timedelta(days=PERIOD_DAYS[period])),
            default=0,
        )
        for period in periods
    }
    return PointsEntry.objects.filter(
        customer=customer, kind__in=[PointsEntry.Kind.EARN, PointsEntry.Kind.REVERSE]
    ).aggregate(**sums)


def customer_figures(customer, thresholds, at):
    """{period: {"spend", "visits", "points"}} of the customer for every period the thresholds use."""
    points = points_earned(customer, thresholds, at)
    figures = {
        Period.LIFETIME: {
            "spend": customer.total_spent,
            "visits": customer.order_count,
            "points": points.get(Period.LIFETIME, 0),
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
                "points": points.get(period, 0),
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
    {"tiers": {tier: customers}, "up": n, "down": n, "today": {tier: customers},
    "rolling_as_of": ...}. Rolling periods read the stored rolling figures, as the last
    recalculation left them and each customer's orders since refreshed them: "rolling_as_of"
    is when that recalculation ran (None when no rolling period is used, or before the first)."""
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
    return {
        "tiers": counts,
        "today": today,
        "up": moved_up,
        "down": moved_down,
        "rolling_as_of": iso(last_recalculated_at(business)) if tiers.order_columns(thresholds) else None,
    }


def last_recalculated_at(business):
    """When the latest finished recalculation of the business started: the moment its rolling
    figures are as of."""
    return (
        TierRecalculation.objects.filter(business=business, status=TierRecalculation.Status.DONE)
        .order_by("-created_at")
        .values_list("started_at", flat=True)
        .first()
    )


def tier_distribution(business):
    """{tier: live customers}, bronze first."""
    rows = dict(
        Customer.objects.filter(business=business)
        .live()
        .values_list("tier")
        # COUNT(*): the partial index of live customers' tiers answers alone.
        .annotate(n=Count("*"))
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
