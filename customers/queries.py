"""Reads of the customers app: search, lists, profile, dashboard figures."""

import re
from datetime import timedelta
from decimal import Decimal

import phonenumbers
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from customers.models import Activity, BlacklistEntry, Customer, Order, searchable

MIN_PHONE_FRAGMENT = 4
CUSTOMERS_PER_PAGE = 50
ORDERS_PER_PAGE = 20
TIMELINE_PER_PAGE = 20
# Keeps OFFSET far inside SQL's integer range whatever page number a URL asks for.
LAST_PAGE_NUMBER = 1_000_000
DASHBOARD_DAYS = 30


def search_customers(queryset, text, country=None):
    """Free-text search: a phone in any format or a fragment of at least 4 digits, names
    without regard to case or accents, the customer's and their accounts' emails.
    `country` reads national phone formats ("07700 900123" in GB is +447700900123)."""
    text = (text or "").strip()
    if not text:
        return queryset
    condition = Q(search_text__contains=searchable(text))
    digits = re.sub(r"\D", "", text)
    if len(digits) >= MIN_PHONE_FRAGMENT and not re.search(r"[^\d\s()+.\-]", text):
        condition |= Q(phone__contains=digits)
        international = international_digits(text, country)
        if international and international != digits:
            condition |= Q(phone__contains=international)
    return queryset.filter(condition)


def international_digits(text, country):
    """The E.164 digits of `text` read as a whole phone number of `country`, or None."""
    try:
        number = phonenumbers.parse(text, (country or "US").upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


def blocked_orders_per_day(business, days=DASHBOARD_DAYS):
    since = timezone.now() - timedelta(days=days)
    return list(
        Order.objects.filter(business=business, status=Order.Status.BLOCKED, placed_at__gte=since)
        .annotate(day=TruncDate("placed_at"))
        .values("day")
        .annotate(count=Count("id"))
        .order_by("day")
    )


class Page:
    """One page of rows, found without counting all rows (a COUNT over a big business is
    slow): the query asks for one row more than a page to learn whether a next page exists.
    Offers what templates/components/pagination.html uses of Django's Page."""

    def __init__(self, rows, number, per_page):
        self.object_list = rows[:per_page]
        self.number = number
        self.has_next = len(rows) > per_page
        self.has_previous = number > 1
        self.next_page_number = number + 1
        self.previous_page_number = number - 1

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)


def page_of(queryset, number, per_page):
    """Page `number` (1-based, as it comes from the URL; anything else means 1) of an ordered queryset."""
    try:
        number = min(max(int(number), 1), LAST_PAGE_NUMBER)
    except (TypeError, ValueError):
        number = 1
    offset = (number - 1) * per_page
    return Page(list(queryset[offset : offset + per_page + 1]), number, per_page)


def customer_list(customers):
    """The rows of the customer list: newest first unless a sort says otherwise, tags in one query."""
    return customers.order_by("-created_at", "-id").prefetch_related("tags")


def customer_profile(customer, *, orders_page=1, timeline_page=1):
    """Everything the profile page shows, in the same number of queries however long the
    customer's history is."""
    last_order_at = customer.last_order_at
    dropoffs = list(customer.dropoffs.all())
    accounts = list(customer.accounts.all())
    orders = customer.orders.select_related("dropoff", "original_dropoff").prefetch_related("items")
    timeline = page_of(customer.activities.select_related("actor"), timeline_page, TIMELINE_PER_PAGE)
    describe_activities(timeline, {d.pk: d for d in dropoffs}, {a.pk: a for a in accounts})
    return {
        "customer": customer,
        "tags": list(customer.tags.all()),
        "accounts": accounts,
        "dropoffs": dropoffs,
        "orders": page_of(orders.order_by("-placed_at", "-id"), orders_page, ORDERS_PER_PAGE),
        "notes": list(customer.notes.select_related("author")),
        "blacklist_history": list(customer.blacklist_entries.select_related("actor")),
        "timeline": timeline,
        "days_since_last_order": (timezone.now() - last_order_at).days if last_order_at else None,
    }


def describe_activities(activities, dropoffs, accounts):
    """Give each timeline entry what its template needs beyond its JSON data: labels for
    field names and reason codes, and the addresses and accounts its ids point to."""
    contact_labels = {field.name: field.verbose_name for field in Customer._meta.fields}
    reasons = dict(BlacklistEntry.Reason.choices)
    for activity in activities:
        data = activity.data
        if activity.kind == Activity.Kind.CONTACT_UPDATED:
            activity.changes = [
                (contact_labels.get(field, field), old, new)
                for field, (old, new) in data.get("changes", {}).items()
            ]
        elif activity.kind in (Activity.Kind.BLACKLISTED, Activity.Kind.UNBLACKLISTED):
            activity.reason_label = reasons.get(data.get("reason"), data.get("reason"))
        elif activity.kind == Activity.Kind.ORDER_ADDRESS_CHANGED:
            activity.old_dropoff = dropoffs.get(data.get("old_dropoff_id"))
            activity.new_dropoff = dropoffs.get(data.get("new_dropoff_id"))
        elif activity.kind == Activity.Kind.ACCOUNT_LINKED:
            activity.account = accounts.get(data.get("account_id"))


def dashboard_figures(business, days=DASHBOARD_DAYS):
    """Key figures of the last `days` days for the owner's dashboard."""
    since = timezone.now() - timedelta(days=days)
    customers = Customer.objects.filter(business=business).live()
    orders = Order.objects.filter(business=business, placed_at__gte=since)
    recent = orders.aggregate(
        completed=Count("id", filter=Q(status=Order.Status.COMPLETED)),
        revenue=Sum("amount", filter=Q(status=Order.Status.COMPLETED)),
        blocked=Count("id", filter=Q(status=Order.Status.BLOCKED)),
    )
    revenue = recent["revenue"] or Decimal(0)
    return {
        "customers": customers.count(),
        "new_customers": customers.filter(created_at__gte=since).count(),
        "blacklisted": customers.filter(is_blacklisted=True).count(),
        "orders": recent["completed"],
        "revenue": revenue,
        "average_order_value": revenue / recent["completed"] if recent["completed"] else None,
        "blocked_orders": recent["blocked"],
    }
