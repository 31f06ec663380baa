"""The loyalty app's writes, one module per part (tiers, lifetime value); this package
re-exports the names its callers use as `services.X`."""

from loyalty.services.clv import (  # noqa: F401
    HORIZON_DAYS,
    MAX_MONEY,
    MIN_REPEAT_CUSTOMERS,
    MODEL_VERSION,
    SIMPLE_VERSION,
    WRITE_CHUNK,
    fit_and_score,
    fit_lifetime_values,
    simple_estimate,
    write_values,
)
from loyalty.services.tiers import (  # noqa: F401
    EVALUATION_TABLE,
    OVERRIDE_CHUNK,
    RECALCULATION_CHUNK,
    apply_evaluation,
    clean_override,
    configuration_json,
    configure_tiers,
    end_overrides,
    expire_overrides,
    needs_writing,
    override_tiers,
    queue_recalculation,
    recalculate_customers,
    recalculate_in_chunks,
    record_changes,
    remove_override,
    request_recalculation,
    run_recalculation,
    seed_demo_tiers,
    tier_configuration,
)
