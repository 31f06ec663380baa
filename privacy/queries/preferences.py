"""Reads of communication preferences and consent events."""

import zoneinfo
from datetime import datetime
from functools import lru_cache

from customers.models import Customer
from customers.queries import page_of, search_customers
from privacy.models import CONSENT_FIELDS, DEFAULTS, CommunicationPreference, ConsentEvent, PrivacySettings

# The preference fields of the API contract (seed 004's names), in its order.
PREFERENCE_FIELDS = [
    *CONSENT_FIELDS,
    "frequency",
    "preferred_channel",
    "timezone",
    "quiet_hours_start",
    "quiet_hours_end",
]
PROFILE_CONSENTS = 10
CONSENTS_PER_PAGE = 50


@lru_cache(maxsize=1)
def time_zone_names():
    return frozenset(zoneinfo.available_timezones())


def default_preferences(customer):
    """The unsaved record of a customer who has none yet: the defaults, marketing off."""
    return CommunicationPreference(business_id=customer.business_id, customer=customer, **DEFAULTS)


def preferences_of(customer):
    """The customer's preference record, or the defaults, unsaved, when they have none:
    reading never writes (the defaults that are off need no event)."""
    record = CommunicationPreference.objects.filter(customer_id=customer.pk).first()
    return record or default_preferences(customer)


def preferences_by_customer(customers):
    """{customer id: preferences_json} of these customers (the defaults for those without a
    record): one query (the API's profile section). The customers come with their business."""
    records = CommunicationPreference.objects.filter(customer_id__in=[customer.pk for customer in customers])
    by_customer = {record.customer_id: record for record in records}
    found = {}
    for customer in customers:
        record = by_customer.get(customer.pk) or default_preferences(customer)
        record.customer = customer
        found[customer.pk] = preferences_json(record)
    return found


def privacy_settings_of(business):
    """The business's privacy settings, or the defaults (nobody opted in at sign-up), unsaved."""
    return PrivacySettings.objects.filter(business=business).first() or PrivacySettings(business=business)


def effective_timezone(record, customer, business):
    """The time zone the customer's quiet hours are in: theirs, else the business's."""
    return record.timezone or customer.timezone or business.timezone or "UTC"


def hh_mm(value):
    return value.strftime("%H:%M") if value else None


def preferences_json(record):
    """The record as the API contract has it: seed 004's names, quiet hours "HH:MM" or null."""
    customer = record.customer
    data = {name: getattr(record, name) for name in CONSENT_FIELDS}
    data.update(
        frequency=record.frequency,
        preferred_channel=record.preferred_channel,
        timezone=effective_timezone(record, customer, customer.business),
        quiet_hours_start=hh_mm(record.quiet_hours_start),
        quiet_hours_end=hh_mm(record.quiet_hours_end),
    )
    return data


def iso(value):
    return value.isoformat() if value else None


def consent_json(event):
    return {
        "id": event.pk,
        "purpose": event.purpose,
        "channel": event.channel,
        "action": event.action,
        "source": event.source,
        "actor": event.actor.get_username() if event.actor else None,
        "evidence": event.evidence,
        "reference": event.reference,
        "at": iso(event.at),
    }


def consent_history(customer, *, before=None, limit=CONSENTS_PER_PAGE):
    """The customer's consent events, newest first, after the cursor `before` (an event id);
    returns (events, the cursor of the next page or None). Events are written as they
    happen, so their ids grow with their times."""
    events = ConsentEvent.objects.filter(customer_id=customer.pk).select_related("actor")
    if before is not None:
        events = events.filter(pk__lt=before)
    rows = list(events.order_by("-id")[: limit + 1])
    if len(rows) > limit:
        return rows[:limit], rows[limit - 1].pk
    return rows, None


def recent_consents(customer, limit=PROFILE_CONSENTS):
    """The last `limit` consent events of the customer, newest first, and whether there are more."""
    events = ConsentEvent.objects.filter(customer_id=customer.pk).select_related("actor").order_by("-id")
    rows = list(events[: limit + 1])
    return rows[:limit], len(rows) > limit


def consents_page(customer, page_number, per_page=CONSENTS_PER_PAGE):
    events = ConsentEvent.objects.filter(customer_id=customer.pk).select_related("actor").order_by("-id")
    return page_of(events, page_number, per_page)


def search_consents(business, *, query="", purpose="", channel="", source="", since=None, until=None):
    """The business's consent events of the customers a free-text search finds (a phone in
    any format, a name), of a purpose, channel and source, between two dates; newest first."""
    events = ConsentEvent.objects.filter(business=business)
    if query:
        customers = search_customers(
            Customer.objects.filter(business=business), query, business.default_country
        )
        events = events.filter(customer__in=customers.values("pk"))
    if purpose:
        events = events.filter(purpose=purpose)
    if channel:
        events = events.filter(channel=channel)
    if source:
        events = events.filter(source=source)
    if since:
        events = events.filter(at__gte=since)
    if until:
        events = events.filter(at__lt=until)
    return events.select_related("customer", "actor").order_by("-at", "-id")


def preferences_export(customer):
    """The customer's preferences for their data export (the `preferences` key of data.json)."""
    record = CommunicationPreference.objects.filter(customer_id=customer.pk).select_related(
        "customer__business"
    )
    found = record.first()
    return preferences_json(found) if found else None


def consents_export(customer):
    """Every consent event of the customer, oldest first (the `consents` key of data.json)."""
    events = ConsentEvent.objects.filter(customer_id=customer.pk).select_related("actor").order_by("at", "id")
    return [consent_json(event) for event in events]


def parse_hh_mm(value):
    """A time of day from "HH:MM"; ValueError otherwise."""
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        raise ValueError(value)
    return datetime.strptime(value, "%H:%M").time()
