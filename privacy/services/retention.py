"""Retention: soft-deleted customers may be restored for settings.SOFT_DELETE_RESTORE_DAYS,
then the nightly task anonymizes them through the same service as a request, each with a
request record of source retention. A business's optional rule puts customers without an
order for N years up for review (an anonymization request that a compliance officer decides)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from customers.models import Business, Customer
from customers.services.audit import log_audit
from privacy.models import AnonymizationRequest, Regulation, RetentionRule, legal_due_date
from privacy.services.anonymization import anonymize_customers

CHUNK = 1000
RETENTION_REASON = "Deleted {days} days ago and not restored (retention policy)."
REVIEW_REASON = "No order for {years} years (retention rule): review whether to anonymize."


def expired_deleted_customers(business, at):
    """Deleted more than the restore period ago, not anonymized, not merged (a merged
    record's phone leads to its survivor, who is the live customer)."""
    cutoff = at - timedelta(days=settings.SOFT_DELETE_RESTORE_DAYS)
    return Customer.objects.filter(
        business=business, deleted_at__lt=cutoff, anonymized_at__isnull=True, merged_into__isnull=True
    )


def anonymize_expired_customers(*, business, at=None):
    """Anonymize every expired deleted customer of `business`, a chunk per transaction.
    Returns how many."""
    at = at or timezone.now()
    done = 0
    while True:
        ids = list(
            expired_deleted_customers(business, at).order_by("pk").values_list("pk", flat=True)[:CHUNK]
        )
        if not ids:
            return done
        with transaction.atomic():
            anonymized = anonymize_customers(business=business, customer_ids=ids, actor=None)
            reason = RETENTION_REASON.format(days=settings.SOFT_DELETE_RESTORE_DAYS)
            AnonymizationRequest.objects.bulk_create(
                AnonymizationRequest(
                    business=business,
                    customer_id=pk,
                    source=AnonymizationRequest.Source.RETENTION,
                    reason=reason,
                    subject_requested_at=at,
                    due_at=at,
                    status=AnonymizationRequest.Status.DONE,
                    completed_at=at,
                )
                for pk in anonymized
            )
        done += len(anonymized)


def flag_inactive_customers(*, business, at=None):
    """Open a review request for each live customer without an order (or, with none, created)
    more than the rule's years ago. Returns how many were flagged."""
    rule = RetentionRule.objects.filter(business=business).first()
    if rule is None or not rule.inactive_years:
        return 0
    at = at or timezone.now()
    cutoff = at - timedelta(days=365 * rule.inactive_years)
    open_request = AnonymizationRequest.objects.filter(
        customer=OuterRef("pk"), status__in=AnonymizationRequest.OPEN_STATUSES
    )
    inactive = (
        Customer.objects.filter(business=business, anonymized_at__isnull=True)
        .live()
        .filter(Q(last_order_at__lt=cutoff) | Q(last_order_at__isnull=True, created_at__lt=cutoff))
        .exclude(Exists(open_request))
    )
    reason = REVIEW_REASON.format(years=rule.inactive_years)
    flagged = 0
    while True:
        ids = list(inactive.order_by("pk").values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return flagged
        AnonymizationRequest.objects.bulk_create(
            AnonymizationRequest(
                business=business,
                customer_id=pk,
                source=AnonymizationRequest.Source.RETENTION,
                reason=reason,
                subject_requested_at=at,
                due_at=legal_due_date(Regulation.GDPR, at),
            )
            for pk in ids
        )
        flagged += len(ids)


@transaction.atomic
def set_retention_rule(*, business, inactive_years, actor):
    rule, _ = RetentionRule.objects.get_or_create(business=business)
    if rule.inactive_years != inactive_years:
        log_audit(
            business=business,
            actor=actor,
            action="retention_rule.changed",
            old=rule.inactive_years,
            new=inactive_years,
        )
        rule.inactive_years = inactive_years
        rule.save(update_fields=["inactive_years", "updated_at"])
    return rule


def run_retention_everywhere(at=None):
    """The nightly task: every business's expired customers, then its review flags."""
    totals = {"anonymized": 0, "flagged": 0}
    for business in Business.objects.order_by("pk"):
        totals["anonymized"] += anonymize_expired_customers(business=business, at=at)
        totals["flagged"] += flag_inactive_customers(business=business, at=at)
    return totals
