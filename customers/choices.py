"""The fixed lists that contact data and business settings choose from."""

import re
import zoneinfo

import phonenumbers
from django.conf import global_settings

# ISO 639-1 languages: Django's list without its regional variants (en-gb, pt-br, ...).
LANGUAGES = sorted(
    ((code, name) for code, name in global_settings.LANGUAGES if "-" not in code), key=lambda item: item[1]
)
LANGUAGE_CODES = {code for code, _ in LANGUAGES}

# IANA zones; "Factory" and "localtime" are no place anyone lives in.
TIME_ZONES = sorted(zoneinfo.available_timezones() - {"Factory", "localtime"})
TIME_ZONE_NAMES = set(TIME_ZONES)

# Countries whose phone numbers phonenumbers can read, with their calling code.
COUNTRIES = [
    (region, f"{region} (+{phonenumbers.country_code_for_region(region)})")
    for region in sorted(phonenumbers.SUPPORTED_REGIONS)
]

CURRENCY_CODE = re.compile(r"[A-Z]{3}")

# What an API key may do: each endpoint needs one of these; "admin" covers them all.
API_SCOPES = {
    "customers:read": "Read customers, their orders, payments and jobs",
    "customers:write": "Create and change customers and their addresses, merge customers",
    "orders:write": "Record orders, payments and refunds",
    "segments": "Manage segments and their members",
    "loyalty": "Read and configure loyalty tiers and points",
    "privacy": "Preferences, consents, data exports and anonymization requests",
    "admin": "Everything above, plus webhooks and the dashboard figures",
}
ADMIN_SCOPE = "admin"
MAX_API_REQUESTS_PER_MINUTE = 1_000_000
