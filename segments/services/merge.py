"""What a merge of customers does with their segments: the survivor joins the static
segments the merged customers were in, and those leave them (they are soft-deleted); the
dynamic segments follow through the incremental re-evaluation of everyone involved. Undo
gives back the static memberships. Called by the customers_merged / merge_undone receivers,
inside the merge's transaction."""

from django.utils import timezone

from customers.models import Customer, MergeRecord
from segments.models import Segment, SegmentMembership, SegmentMembershipEvent
from segments.services import membership
from segments.services.incremental import note_customers

# Under this key of the merge record's snapshot: {"added": [segment ids the survivor joined],
# "removed": {segment id: [merged customer ids that left it]}}.
SNAPSHOT_KEY = "segments"
EVENT = SegmentMembershipEvent.Cause.EVENT


def move_static_memberships(*, record, survivor, merged):
    merged_ids = [customer.pk for customer in merged]
    at = timezone.now()
    static = SegmentMembership.objects.filter(segment__kind=Segment.Kind.STATIC, customer_id__in=merged_ids)
    removed = {}
    for segment_id, customer_id in static.values_list("segment_id", "customer_id"):
        removed.setdefault(segment_id, []).append(customer_id)
    added = []
    for segment in Segment.objects.filter(pk__in=removed).order_by("pk"):
        membership.remove_members(segment, removed[segment.pk], cause=EVENT, actor=None, at=at)
        survivor_only = Customer.objects.filter(pk=survivor.pk)
        if membership.add_members(segment, survivor_only, cause=EVENT, actor=None, at=at):
            added.append(segment.pk)
    if removed:
        record.snapshot[SNAPSHOT_KEY] = {"added": added, "removed": {str(k): v for k, v in removed.items()}}
        MergeRecord.objects.filter(pk=record.pk).update(snapshot=record.snapshot)
    note_customers(survivor.business_id, [survivor.pk, *merged_ids])


def give_back_static_memberships(*, record):
    snapshot = record.snapshot.get(SNAPSHOT_KEY, {"added": [], "removed": {}})
    at = timezone.now()
    for segment in Segment.objects.filter(pk__in=snapshot["added"]).order_by("pk"):
        membership.remove_members(segment, [record.survivor_id], cause=EVENT, actor=None, at=at)
    for segment in Segment.objects.filter(pk__in=[int(pk) for pk in snapshot["removed"]]).order_by("pk"):
        customers = Customer.objects.filter(pk__in=snapshot["removed"][str(segment.pk)])
        membership.add_members(segment, customers, cause=EVENT, actor=None, at=at)
    note_customers(record.business_id, [record.survivor_id, *record.merged_ids])
