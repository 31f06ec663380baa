"""The loyalty figures of the owner's dashboard: tier distribution, tier moves per month and
lifetime value per tier."""

from django.db.models import Count, DateField
from django.db.models.functions import Trunc

from loyalty.models import TIER_ORDER, Tier, TierChange
from loyalty.queries.clv import fit_figures, latest_fit, value_bands
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
    many customers fall in each band of predicted value, as of the fit (which keeps these
    figures: reading every customer's value would take the page most of a second at a
    million customers); None before the first fit."""
    fit = latest_fit(business)
    if fit is None:
        return None
    tiers = fit_figures(fit)
    distribution = [
        {"label": label, "customers": sum(row["bands"][number] for row in tiers)}
        for number, (label, _, _) in enumerate(value_bands())
    ]
    return {"fit": fit, "tiers": tiers, "distribution": distribution}
