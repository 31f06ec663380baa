"""The privacy app's reads, one module per part; this package re-exports the names its
callers use as `queries.X`."""

from privacy.queries.analytics import business_aggregates
from privacy.queries.audience import (  # noqa: F401
    AUDIENCE_PAGE,
    audience,
    audience_page,
    audience_rows,
    clean_audience_request,
    send_after,
    write_audience_csv,
)
from privacy.queries.preferences import (  # noqa: F401
    CONSENTS_PER_PAGE,
    PREFERENCE_FIELDS,
    PROFILE_CONSENTS,
    consent_history,
    consent_json,
    consents_export,
    consents_page,
    default_preferences,
    effective_timezone,
    preferences_by_customer,
    preferences_export,
    preferences_json,
    preferences_of,
    privacy_settings_of,
    recent_consents,
    search_consents,
)
from privacy.queries.requests import (
    ACCESS_LOG_PER_PAGE,
    about_customer,
    access_log,
    access_log_of,
    customer_requests,
    expired_exports,
    open_requests,
    privacy_requests_of,
    recent_anonymizations,
    recent_exports,
)

__all__ = [
    "ACCESS_LOG_PER_PAGE",
    "about_customer",
    "access_log",
    "access_log_of",
    "business_aggregates",
    "customer_requests",
    "expired_exports",
    "open_requests",
    "privacy_requests_of",
    "recent_anonymizations",
    "recent_exports",
]
