"""Membership after events: the receivers note the customers an event may move in or out
of segments (one INSERT, in the event's transaction), and a task running every minute
re-evaluates the noted customers against every active dynamic segment of their business,
set-based, writing joins and leaves with the cause "event"."""

from django.db import connection, transaction
from django.utils import timezone

from customers.models import Customer
from segments import rules as segment_rules
from segments.models import PendingEvaluation, Segment, SegmentMembershipEvent
from segments.services import membership

BATCH_SIZE = 5_000


def note_customers(business_id, customer_ids):
    """Remember customers to re-evaluate (inside the caller's transaction: an event rolled
    back leaves nothing to do)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return
    if connection.vendor == "postgresql":
        # One statement whatever the number of ids (a bulk tag of 100,000 customers).
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO segments_pendingevaluation (business_id, customer_id, created_at) "
                "SELECT %s, unnest(%s::bigint[]), %s",
                [business_id, ids, timezone.now()],
            )
        return
    PendingEvaluation.objects.bulk_create(
        PendingEvaluation(business_id=business_id, customer_id=pk) for pk in ids
    )


def evaluate_pending(*, at=None, batch_size=BATCH_SIZE):
    """Re-evaluate the noted customers, a batch at a time, each batch in one transaction.
    Returns how many notes were handled."""
    handled = 0
    while True:
        done = evaluate_batch(at=at or timezone.now(), batch_size=batch_size)
        handled += done
        if done < batch_size:
            return handled


@transaction.atomic
def evaluate_batch(*, at, batch_size):
    notes = list(
        PendingEvaluation.objects.select_for_update(skip_locked=True)
        .order_by("id")
        .values_list("id", "business_id", "customer_id")[:batch_size]
    )
    by_business = {}
    for _, business_id, customer_id in notes:
        by_business.setdefault(business_id, set()).add(customer_id)
    for business_id, customer_ids in by_business.items():
        reevaluate(business_id, sorted(customer_ids), at=at)
    PendingEvaluation.objects.filter(pk__in=[note[0] for note in notes]).delete()
    return len(notes)


def reevaluate(business_id, customer_ids, *, at):
    """Bring these customers' memberships of the business's active dynamic segments up to date."""
    segments = Segment.objects.live().dynamic().filter(business_id=business_id, active=True)
    scope = Customer.objects.filter(pk__in=customer_ids).values_list("pk")
    for segment in segments.select_related("business"):
        matching = segment_rules.members(segment.rules, business=segment.business, at=at).filter(
            pk__in=customer_ids
        )
        membership.replace_members(
            segment, matching, cause=SegmentMembershipEvent.Cause.EVENT, actor=None, at=at, scope=scope
        )
