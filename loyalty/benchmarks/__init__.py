"""The figures of the loyalty app for `manage.py bench` (see customers/benchmarks/harness.py)."""

import zoneinfo

from django.utils import timezone

from customers.benchmarks import harness
from loyalty import queries, services

# Each run refits and rewrites every customer's value: a few runs say enough.
CLV_RUNS = 3


def figures(context):
    if context.wants("clv"):
        yield clv_figure(context.business)


def clv_figure(business):
    """Fit and scoring of every customer, stored, against the summary aggregate alone in raw SQL."""
    as_of = timezone.localdate(timezone=zoneinfo.ZoneInfo(business.timezone))
    fits = []

    def ours(run):
        fits.append(services.fit_lifetime_values(business=business, actor=None, as_of=as_of))

    def raw(run):
        harness.fetch(*queries.lifetime_summary_sql(business, as_of))

    def note():
        return f"{fits[-1].customers} customers valued, {fits[-1].model_version}"

    return harness.Figure("clv.fit_and_score", ours=ours, raw=raw, runs=CLV_RUNS, warmup=1, note=note)
