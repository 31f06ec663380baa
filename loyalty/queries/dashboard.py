"""The loyalty figures of the owner's dashboard: tier distribution, tier moves per month and
lifetime value per tier, each one aggregate."""

from django.db.models import Avg, Count, DateField, Q
from django.db.models.functions import Trunc

from loyalty.models import TIER_ORDER, CustomerLifetimeValue, Tier, TierChange
from loyalty.queries.clv import latest_fit, value_bands
from loyalty.queries.tiers import tier_distribution

RANK = {tier: rank for rank, tier in enumerate(TIER_ORDER)}


def tier_dashboard(business, *, since, until, tzinfo):
    """Live customers per tier, and per month (local, as its first day) of [since, until)
    the tier changes up and down."""
    rows = (
        TierChange.objects.filter(business=business, changed_at__gte=since, changed_at__lt=until)
        .annotate(month=Trunc("changed_at", "month", output_field=DateField(), tzinfo=tzinfo))
        .values("month", "from_tier", "to_tier")
        .annotate(n=Count("pk"))
        .order_by("month")
    )
    months = {}
    for row in rows:
        moves = months.setdefault(row["month"], {"month": row["month"], "up": 0, "down": 0})
        if RANK[row["to_tier"]] > RANK[row["from_tier"]]:
            moves["up"] += row["n"]
        elif RANK[row["to_tier"]] < RANK[row["from_tier"]]:
            moves["down"] += row["n"]
    distribution = tier_distribution(business)
    return {
        "distribution": [
            {"tier": tier, "label": Tier(tier).label, "customers": distribution[tier]} for tier in TIER_ORDER
        ],
        "moves": list(months.values()),
    }


def lifetime_value_dashboard(business):
    """The latest fit's mean current and predicted (next 365 days) value per tier, and how
    many customers fall in each band of predicted value; None before the first fit."""
    fit = latest_fit(business)
    if fit is None:
        return None
    values = CustomerLifetimeValue.objects.filter(business=business, customer__deleted_at__isnull=True)
    bands = value_bands()
    band_counts = {}
    for number, (_, low, high) in enumerate(bands):
        band = (
            Q(predicted_365d__gte=low)
            if high is None
            else Q(predicted_365d__gte=low, predicted_365d__lt=high)
        )
        band_counts[f"band_{number}"] = Count("pk", filter=band)
    rows = {
        row.pop("customer__tier"): row
        for row in values.values("customer__tier")
        .annotate(
            customers=Count("pk"), current=Avg("current"), predicted=Avg("predicted_365d"), **band_counts
        )
        .order_by()
    }
    tiers = [
        {
            "tier": tier,
            "label": Tier(tier).label,
            "customers": rows[tier]["customers"],
            "current": rows[tier]["current"],
            "predicted": rows[tier]["predicted"],
        }
        for tier in TIER_ORDER
        if tier in rows
    ]
    distribution = [
        {"label": label, "customers": sum(row[f"band_{number}"] for row in rows.values())}
        for number, (label, _, _) in enumerate(bands)
    ]
    return {"fit": fit, "tiers": tiers, "distribution": distribution}
