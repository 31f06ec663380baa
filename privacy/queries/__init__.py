"""Reads of the privacy app; this package re-exports the names its callers use as `queries.X`."""

from privacy.queries.analytics import business_aggregates
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
