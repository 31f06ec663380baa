"""Reads of the customers app: search, lists, profile, dashboard figures."""

import re
from datetime import timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from customers.models import Order, searchable

MIN_PHONE_FRAGMENT = 4


def search_customers(queryset, text):
    """Free-text search: a phone in any format or a fragment of at least 4 digits, names
    without regard to case or accents, the customer's and their accounts' emails."""
    text = (text or "").strip()
    if not text:
        return queryset
    condition = Q(search_text__contains=searchable(text))
    digits = re.sub(r"\D", "", text)
    if len(digits) >= MIN_PHONE_FRAGMENT and not re.search(r"[^\d\s()+.\-]", text):
        condition |= Q(phone__contains=digits)
    return queryset.filter(condition)


def blocked_orders_per_day(business, days=30):
    since = timezone.now() - timedelta(days=days)
    return list(
        Order.objects.filter(business=business, status=Order.Status.BLOCKED, placed_at__gte=since)
        .annotate(day=TruncDate("placed_at"))
        .values("day")
        .annotate(count=Count("id"))
        .order_by("day")
    )


