"""Reads of the segments app: lists, members, history, a customer's segments, the chart data."""

from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from customers.models import Customer, Job
from segments.models import (
    Segment,
    SegmentMembership,
    SegmentMembershipEvent,
    SegmentRecalculation,
    SegmentSnapshot,
)

MEMBERS_PER_PAGE = 100
CHART_DAYS = 30


def iso(moment):
    return timezone.localtime(moment).isoformat() if moment else None


def live_segments(business):
    return Segment.objects.live().filter(business=business)


def segment_of(business, pk):
    """The business's live segment with this id, or None (another business's is None too)."""
    return live_segments(business).filter(pk=pk).first()


def segment_json(segment):
    return {
        "id": segment.pk,
        "name": segment.name,
        "description": segment.description,
        "kind": segment.kind,
        "rules": segment.rules,
        "active": segment.active,
        "member_count": segment.member_count,
        "last_recalculated_at": iso(segment.last_recalculated_at),
    }


def segment_choices(business):
    """The customer list's "Segment" filter: the business's live segments."""
    return [(str(pk), name) for pk, name in live_segments(business).values_list("pk", "name")]


def filter_by_segment(customers, segment_id, business):
    """The customer list's "Segment" filter: the members of one of the business's segments."""
    members = SegmentMembership.objects.filter(
        segment_id=segment_id, segment__business=business, customer=OuterRef("pk")
    )
    return customers.filter(Exists(members))


def members(segment):
    """The segment's live customers, by customer id (the unique index's order)."""
    return (
        SegmentMembership.objects.filter(segment=segment, customer__deleted_at__isnull=True)
        .select_related("customer")
        .order_by("customer_id")
    )


def members_page(segment, *, after=None):
    """A cursor page of memberships: (rows, the next page's cursor or None)."""
    limit = MEMBERS_PER_PAGE
    rows = members(segment)
    if after is not None:
        rows = rows.filter(customer_id__gt=after)
    rows = list(rows[: limit + 1])
    return rows[:limit], (rows[limit - 1].customer_id if len(rows) > limit else None)


def member_customers(segment):
    """The segment's members as a Customer queryset (the customer list's filter, the export,
    the bulk actions)."""
    return Customer.objects.filter(business_id=segment.business_id, segment_memberships__segment=segment)


def history(segment, limit=50):
    return list(
        SegmentMembershipEvent.objects.filter(segment=segment)
        .select_related("customer")
        .order_by("-at", "-id")[:limit]
    )


def segments_of_customer(customer):
    """The live segments a customer is in, with since when: one query."""
    return list(
        SegmentMembership.objects.filter(customer=customer, segment__deleted_at__isnull=True)
        .select_related("segment")
        .order_by("segment__name")
    )


def segments_by_customer(customers):
    """{customer id: [{"id", "name", "since"}]} of the live segments each customer is in, by
    name: one query (the API's profile section)."""
    found = {customer.pk: [] for customer in customers}
    rows = (
        SegmentMembership.objects.filter(customer_id__in=found, segment__deleted_at__isnull=True)
        .select_related("segment")
        .order_by("segment__name", "segment_id")
    )
    for row in rows:
        found[row.customer_id].append(
            {"id": row.segment_id, "name": row.segment.name, "since": iso(row.since)}
        )
    return found


def customers_by_ids(business, ids):
    """The business's customers of these ids, in that order (a preview's sample)."""
    found = Customer.objects.filter(business=business, pk__in=ids).in_bulk()
    return [found[pk] for pk in ids if pk in found]


def running_recalculations(segments):
    """{segment id: its queued or running recalculation} of these segments, in one query."""
    running = SegmentRecalculation.objects.filter(
        segment__in=segments, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
    ).order_by("created_at")
    return {job.segment_id: job for job in running}


def latest_recalculation(segment):
    return SegmentRecalculation.objects.filter(segment=segment).order_by("-created_at", "-id").first()


def size_history(segments, *, days=CHART_DAYS, today=None):
    """Each segment's daily sizes over the last `days`, oldest first: {segment id: [(date, count)]}."""
    today = today or timezone.localdate()
    rows = SegmentSnapshot.objects.filter(
        segment__in=segments, date__gt=today - timedelta(days=days)
    ).order_by("segment_id", "date")
    sizes = {segment.pk: [] for segment in segments}
    for segment_id, date, count in rows.values_list("segment_id", "date", "member_count"):
        sizes[segment_id].append((date, count))
    return sizes


def sparkline_points(sizes, current, *, width=120, height=28):
    """The SVG polyline points of a size chart: the snapshots, then today's current count."""
    counts = [count for _, count in sizes] + [current]
    if len(counts) == 1:
        counts = counts * 2
    top = max(counts) or 1
    step = width / (len(counts) - 1)
    return " ".join(
        f"{round(index * step, 1)},{round(height - 2 - (height - 4) * count / top, 1)}"
        for index, count in enumerate(counts)
    )
