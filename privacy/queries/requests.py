"""Reads of the privacy app: the compliance queue, the access log, a customer's requests."""

from django.db.models import Q
from django.utils import timezone

from privacy.models import AccessLog, AnonymizationRequest, DataExport

ACCESS_LOG_PER_PAGE = 50
QUEUE_LIMIT = 200


def open_requests(business):
    """The compliance queue: open anonymization requests and exports, overdue first, then by
    due date. [(kind, request)] with kind "anonymization" or "export"."""
    anonymizations = (
        AnonymizationRequest.objects.filter(business=business, status__in=AnonymizationRequest.OPEN_STATUSES)
        .select_related("customer", "requested_by", "job")
        .order_by("due_at", "pk")[:QUEUE_LIMIT]
    )
    exports = (
        DataExport.objects.filter(
            business=business, status__in=[DataExport.Status.PENDING, DataExport.Status.PROCESSING]
        )
        .select_related("customer", "requested_by")
        .order_by("due_at", "pk")[:QUEUE_LIMIT]
    )
    rows = [("anonymization", request) for request in anonymizations] + [("export", e) for e in exports]
    # Sorted by due date, the overdue ones come first by themselves.
    return sorted(rows, key=lambda row: (row[1].due_at, row[0], row[1].pk))


def recent_exports(business, limit=50):
    return list(
        DataExport.objects.filter(business=business)
        .select_related("customer", "requested_by", "approved_by")
        .order_by("-created_at", "-pk")[:limit]
    )


def recent_anonymizations(business, limit=50):
    return list(
        AnonymizationRequest.objects.filter(business=business)
        .exclude(status__in=AnonymizationRequest.OPEN_STATUSES)
        .select_related("customer", "requested_by", "decided_by")
        .order_by("-created_at", "-pk")[:limit]
    )


def about_customer(customer_id):
    return Q(customer_ids__contains=f",{int(customer_id)},")


def access_log(business, *, customer_id=None, user_id=None, since=None, until=None):
    """The access log of a business, newest first, filtered by customer, user and date."""
    entries = AccessLog.objects.filter(business=business).select_related("actor", "api_key")
    if customer_id:
        entries = entries.filter(about_customer(customer_id))
    if user_id:
        entries = entries.filter(actor_id=user_id)
    if since:
        entries = entries.filter(at__date__gte=since)
    if until:
        entries = entries.filter(at__date__lte=until)
    return entries.order_by("-at", "-pk")


def access_log_of(customer):
    """The data export's `access_log`: who saw this customer's data, when, from where."""
    entries = AccessLog.objects.filter(about_customer(customer.pk), business_id=customer.business_id)
    return [
        {
            "at": entry["at"],
            "what": entry["what"],
            "by": entry["actor__username"]
            or (entry["api_key__name"] and f"API key {entry['api_key__name']}"),
            "address": entry["remote_addr"],
        }
        for entry in entries.order_by("at", "pk").values(
            "at", "what", "actor__username", "api_key__name", "remote_addr"
        )
    ]


def privacy_requests_of(customer):
    """The data export's `privacy_requests`: the exports and anonymizations asked about them."""
    exports = DataExport.objects.filter(customer=customer).order_by("pk")
    anonymizations = AnonymizationRequest.objects.filter(customer=customer).order_by("pk")
    return {
        "exports": list(
            exports.values("id", "type", "regulation", "reason", "status", "created_at", "due_at")
        ),
        "anonymizations": list(
            anonymizations.values("id", "source", "regulation", "reason", "status", "created_at", "due_at")
        ),
    }


def customer_requests(customer):
    """The profile panel's requests of this customer, newest first (two queries)."""
    return {
        "exports": list(DataExport.objects.filter(customer=customer).order_by("-created_at", "-pk")[:5]),
        "anonymization": AnonymizationRequest.objects.filter(customer=customer)
        .exclude(status=AnonymizationRequest.Status.REJECTED)
        .order_by("-created_at", "-pk")
        .first(),
    }


def expired_exports(at=None):
    at = at or timezone.now()
    return DataExport.objects.filter(status=DataExport.Status.COMPLETED, expires_at__lte=at)
