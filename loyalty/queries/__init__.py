"""The loyalty app's reads, one module per part (tiers, lifetime value, points); this package
re-exports the names its callers use as `queries.X`."""

from loyalty.queries.clv import (  # noqa: F401
    EPOCH,
    VALUE_BANDS,
    LifetimeSummary,
    clv_page,
    clv_status,
    day_number,
    fit_figures,
    fit_json,
    latest_fit,
    lifetime_summary,
    lifetime_summary_sql,
    predicted_value_by_tier,
    value_bands,
    value_figures,
)
from loyalty.queries.dashboard import lifetime_value_dashboard, tier_dashboard  # noqa: F401
from loyalty.queries.points import (  # noqa: F401
    LEDGER_PER_PAGE,
    RECENT_ENTRIES,
    ledger_page,
    points_earned_sql,
    points_rule_of,
    recent_entries,
)
from loyalty.queries.tiers import (  # noqa: F401
    AUDITS_PER_PAGE,
    audits,
    configuration_of,
    customer_figures,
    iso,
    last_recalculated_at,
    next_tier,
    qualified_tier,
    recent_recalculations,
    requirements,
    tier_distribution,
    tier_panel,
    tier_status,
    what_if,
)
