"""The audience of a campaign: of a set of customers (a segment, the list's filter), those
who may be contacted on a channel for a purpose, each with the earliest time a message may
be sent in their own time zone and quiet hours. Nothing is sent by the product: a campaign
tool takes the list (the CSV, or the segment's audience API)."""

import csv
import datetime as dt
import itertools
import zoneinfo

from django.core.exceptions import ValidationError
from django.db.models import CharField, Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Concat

from customers.models import CustomerAccount
from customers.normalize import neutralize
from privacy.models import DEFAULTS

AUDIENCE_PAGE = 500
UTC = dt.UTC
PREFERENCE = "communication_preference__"
# The consent a channel needs for marketing messages.
CHANNEL_FIELDS = {"email": "email_marketing", "sms": "sms_marketing", "push": "push_notifications"}
# The consent a purpose needs on top of the channel's. Loyalty updates are service messages
# about the customer's own account: they need the customer's loyalty_updates, not the
# channel's marketing consent.
PURPOSE_FIELDS = {
    "marketing": None,
    "promotions": "promotional_offers",
    "newsletter": "newsletter_subscription",
    "surveys": "survey_invitations",
    "loyalty": "loyalty_updates",
}
SERVICE_PURPOSES = {"loyalty"}


def clean_audience_request(channel, purpose):
    """A ValidationError naming the parameter when the channel or the purpose is not one we know."""
    errors = {}
    if channel not in CHANNEL_FIELDS:
        errors["channel"] = f"Enter one of: {', '.join(CHANNEL_FIELDS)}."
    if purpose not in PURPOSE_FIELDS:
        errors["purpose"] = f"Enter one of: {', '.join(PURPOSE_FIELDS)}."
    if errors:
        raise ValidationError(errors)


def consented(field):
    """Customers with this consent; those without a preference record have the defaults."""
    condition = Q(**{f"{PREFERENCE}{field}": True})
    if DEFAULTS[field]:
        condition |= Q(**{f"{PREFERENCE}isnull": True})
    return condition


def push_accounts():
    """The customer's storefront accounts with a login id: where a push notification goes."""
    return CustomerAccount.objects.filter(customer_id=OuterRef("pk")).exclude(external_id="")


def audience(customers, *, channel, purpose):
    """The customers of the queryset who may be contacted on `channel` for `purpose`: not
    deleted, anonymized or blacklisted, with the consents the pair needs and an address for
    the channel; one set-based query, by id, with the `contact` address, the time zone and
    the quiet hours each row needs for `send_after`."""
    clean_audience_request(channel, purpose)
    rows = customers.filter(deleted_at__isnull=True, anonymized_at__isnull=True, is_blacklisted=False)
    needed = [PURPOSE_FIELDS[purpose]]
    if purpose not in SERVICE_PURPOSES:
        needed.append(CHANNEL_FIELDS[channel])
    for field in filter(None, needed):
        rows = rows.filter(consented(field))
    if channel == "email":
        rows = rows.exclude(email="").annotate(contact=F("email"))
    elif channel == "sms":
        rows = rows.annotate(contact=F("phone"))
    else:
        account = push_accounts().order_by("-created_at", "-id")
        login = Concat("provider", Value(":"), "external_id", output_field=CharField())
        rows = rows.filter(Exists(push_accounts())).annotate(
            contact=Subquery(account.annotate(login=login).values("login")[:1])
        )
    return rows.annotate(
        preference_timezone=F(f"{PREFERENCE}timezone"),
        quiet_start=F(f"{PREFERENCE}quiet_hours_start"),
        quiet_end=F(f"{PREFERENCE}quiet_hours_end"),
    ).order_by("pk")


def zone_of(name, fallback):
    try:
        return zoneinfo.ZoneInfo(name or fallback or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(fallback or "UTC")


def send_after(now, zone, start, end):
    """The earliest moment at or after `now` outside the quiet hours [start, end) in `zone`
    (wall-clock times; a window with start > end wraps midnight). A quiet-hours end that a
    DST change skips that day ends the quiet hours when the clocks jump."""
    if start is None or end is None:
        return now
    local = now.astimezone(zone)
    wall = local.time().replace(tzinfo=None)
    if start < end:
        quiet, end_day = start <= wall < end, local.date()
    else:
        quiet = wall >= start or wall < end
        end_day = local.date() + dt.timedelta(days=1) if wall >= start else local.date()
    if not quiet:
        return now
    end_wall = dt.datetime.combine(end_day, end)
    first = end_wall.replace(tzinfo=zone).astimezone(UTC)  # fold=0: the first of an hour repeated
    if first.astimezone(zone).replace(tzinfo=None) != end_wall:
        first = dst_jump(zone, end_wall)
    return max(first, now)


def dst_jump(zone, end_wall):
    """The first instant whose wall-clock time is at or after `end_wall`, a time a DST change
    skips: between the instants its two readings give, found to the second."""
    low = int(end_wall.replace(tzinfo=zone, fold=1).timestamp())
    high = int(end_wall.replace(tzinfo=zone, fold=0).timestamp())
    low, high = min(low, high), max(low, high)
    while high - low > 1:
        middle = (low + high) // 2
        if dt.datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= end_wall:
            high = middle
        else:
            low = middle
    return dt.datetime.fromtimestamp(high, UTC)


def rows_with_send_times(rows, now, business):
    """The rows as {"id", "contact", "send_after"} (ISO 8601 in UTC), the send time computed per row."""
    results = []
    for row in rows:
        zone = zone_of(row["preference_timezone"] or row["timezone"], business.timezone)
        at = send_after(now, zone, row["quiet_start"], row["quiet_end"])
        results.append({"id": row["id"], "contact": row["contact"], "send_after": at.isoformat()})
    return results


FIELDS = ["id", "contact", "timezone", "preference_timezone", "quiet_start", "quiet_end"]


def audience_page(customers, *, channel, purpose, business, now, after=None, limit=AUDIENCE_PAGE):
    """One page of the audience after the customer id `after`, as the API contract has it:
    {"results": [{"id", "contact", "send_after"}], "next": cursor or None}."""
    rows = audience(customers, channel=channel, purpose=purpose)
    if after is not None:
        rows = rows.filter(pk__gt=after)
    page = list(rows.values(*FIELDS)[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return {
        "results": rows_with_send_times(page, now, business),
        "next": str(page[-1]["id"]) if more else None,
    }


def audience_rows(customers, *, channel, purpose, business, now, chunk=2000):
    """Every row of the audience, read by one query in chunks (a server-side cursor on
    PostgreSQL), for a download that streams."""
    rows = audience(customers, channel=channel, purpose=purpose).values(*FIELDS).iterator(chunk_size=chunk)
    while batch := list(itertools.islice(rows, chunk)):
        yield from rows_with_send_times(batch, now, business)


class Echo:
    """A file whose write() hands back the line, so that csv.writer feeds a streaming response."""

    def write(self, value):
        return value


def write_audience_csv(customers, *, channel, purpose, business, now):
    """The audience as CSV lines (id, contact, send_after), one at a time: a segment page's
    download wraps them in a StreamingHttpResponse."""
    writer = csv.writer(Echo())
    yield writer.writerow(["id", "contact", "send_after"])
    for row in audience_rows(customers, channel=channel, purpose=purpose, business=business, now=now):
        yield writer.writerow([row["id"], neutralize(row["contact"]), row["send_after"]])
