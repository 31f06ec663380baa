from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from customers import duplicates
from customers.models import DuplicateCandidate, DuplicateDismissal, DuplicateScan

# A scan still unfinished after this long is taken for dead and a new one may start.
DUPLICATE_SCAN_STALE = timedelta(hours=2)


def forget_duplicate_candidates(customer_ids):
    """The candidate pairs hold live customers only (what the duplicates page lists and
    counts): a merged or deleted customer's pairs go; the next scan finds them again if
    the customer comes back."""
    DuplicateCandidate.objects.filter(
        Q(customer_a_id__in=customer_ids) | Q(customer_b_id__in=customer_ids)
    ).delete()


@transaction.atomic
def dismiss_duplicate(*, candidate, actor):
    """“Not a duplicate”: the pair never comes back."""
    DuplicateDismissal.objects.get_or_create(
        business_id=candidate.business_id,
        customer_a_id=candidate.customer_a_id,
        customer_b_id=candidate.customer_b_id,
        defaults={"actor": actor},
    )
    DuplicateCandidate.objects.filter(pk=candidate.pk).delete()


@transaction.atomic
def detect_duplicates(*, business, actor=None):
    """Replace the business's duplicate candidates with a fresh scan; returns how many."""
    dismissed = set(
        DuplicateDismissal.objects.filter(business=business).values_list("customer_a_id", "customer_b_id")
    )
    now = timezone.now()
    candidates = [
        DuplicateCandidate(
            business=business,
            customer_a_id=customer_a,
            customer_b_id=customer_b,
            reasons=duplicates.ordered_reasons(reasons),
            score=duplicates.score(reasons),
            detected_at=now,
        )
        for (customer_a, customer_b), reasons in duplicates.find_duplicate_pairs(business).items()
        if (customer_a, customer_b) not in dismissed
    ]
    DuplicateCandidate.objects.filter(business=business).delete()
    DuplicateCandidate.objects.bulk_create(candidates, batch_size=5000)
    duplicates.refresh_statistics()
    return len(candidates)


def request_duplicate_scan(*, business, actor):
    """Queue a scan of the business, unless one is already waiting or running."""
    pending = DuplicateScan.objects.filter(business=business, finished_at__isnull=True, error="")
    scan = pending.filter(requested_at__gte=timezone.now() - DUPLICATE_SCAN_STALE).first()
    if scan is not None:
        return scan
    scan = DuplicateScan.objects.create(business=business, requested_by=actor)
    transaction.on_commit(
        lambda: async_task("customers.tasks.detect_duplicates_task", business.pk, scan.pk, group="duplicates")
    )
    return scan


def run_duplicate_scan(*, scan):
    DuplicateScan.objects.filter(pk=scan.pk).update(started_at=timezone.now())
    try:
        found = detect_duplicates(business=scan.business, actor=scan.requested_by)
    except Exception as error:
        DuplicateScan.objects.filter(pk=scan.pk).update(error=f"{type(error).__name__}: {error}"[:1000])
        raise
    DuplicateScan.objects.filter(pk=scan.pk).update(finished_at=timezone.now(), candidates=found)
    return found
