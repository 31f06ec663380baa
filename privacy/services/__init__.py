"""Every write of the privacy app, one module per part (preferences and consent, access log,
exports, anonymization, retention); this package re-exports the names its callers use as
`services.X`."""

from privacy.services.access_log import record_access
from privacy.services.anonymization import (
    anonymize_customers,
    approve_anonymization,
    queue_anonymization,
    reject_anonymization,
    request_anonymization,
    run_anonymization_job,
)
from privacy.services.exports import (
    approve_data_export,
    expire_data_exports,
    queue_build,
    record_download,
    request_data_export,
    run_data_export,
)
from privacy.services.preferences import (  # noqa: F401
    GRANT_NEEDS_EVIDENCE,
    MERGE_SNAPSHOT_KEY,
    OPT_IN_FIELDS,
    checkout_place,
    clean_changes,
    clear_anonymized_preferences,
    consents_from_opt_ins,
    merge_preferences,
    opt_in_at_signup,
    record_checkout_opt_ins,
    record_opt_ins,
    seed_demo_preferences,
    set_consents_in_bulk,
    undo_merge_preferences,
    update_preferences,
    update_privacy_settings,
)
from privacy.services.retention import (
    anonymize_expired_customers,
    flag_inactive_customers,
    run_retention_everywhere,
    set_retention_rule,
)

__all__ = [
    "anonymize_customers",
    "anonymize_expired_customers",
    "approve_anonymization",
    "approve_data_export",
    "expire_data_exports",
    "flag_inactive_customers",
    "queue_anonymization",
    "queue_build",
    "record_access",
    "record_download",
    "reject_anonymization",
    "request_anonymization",
    "request_data_export",
    "run_anonymization_job",
    "run_data_export",
    "run_retention_everywhere",
    "set_retention_rule",
]
