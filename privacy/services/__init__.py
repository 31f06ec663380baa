"""The privacy app's writes, one module per part; this package re-exports the names its
callers use as `services.X`."""

from privacy.services.preferences import (  # noqa: F401
    GRANT_NEEDS_EVIDENCE,
    MERGE_SNAPSHOT_KEY,
    OPT_IN_FIELDS,
    clean_changes,
    consents_from_opt_ins,
    merge_preferences,
    opt_in_at_signup,
    record_opt_ins,
    seed_demo_preferences,
    set_consents_in_bulk,
    undo_merge_preferences,
    update_preferences,
    update_privacy_settings,
)
