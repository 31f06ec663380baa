"""Hand-made membership of static segments: by customer ids, from a customer queryset (the
bulk actions) and from a CSV of phones, whose bad rows are reported with their numbers."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from customers.bulk.tables import ImportFileError, open_table
from customers.bulk_actions import BulkResult
from customers.models import Customer
from customers.normalize import normalize_phone
from customers.services.audit import log_audit
from segments.models import Segment, SegmentMembershipEvent
from segments.services import membership

MANUAL = SegmentMembershipEvent.Cause.MANUAL
NOT_STATIC = (
    "Customers are added to and removed from static segments only; a dynamic segment follows its rules."
)


def check_static(segment):
    if segment.kind != Segment.Kind.STATIC or segment.deleted_at is not None:
        raise ValidationError({"segment": [NOT_STATIC]})


@transaction.atomic
def add_to_segment(*, segment, customers, actor):
    """Add the business's live customers of a queryset to a static segment."""
    check_static(segment)
    customers = customers.filter(business_id=segment.business_id).live()
    wanted = customers.count()
    outcome = BulkResult()
    outcome.changed = membership.add_members(segment, customers, cause=MANUAL, actor=actor, at=timezone.now())
    outcome.skip("already in the segment", wanted - outcome.changed)
    audit(segment, actor, "segment.members_added", outcome)
    return outcome


@transaction.atomic
def remove_from_segment(*, segment, customers, actor):
    """Remove the customers of a queryset from a static segment."""
    check_static(segment)
    wanted = customers.count()
    ids = customers.values("pk")
    outcome = BulkResult()
    outcome.changed = membership.remove_members(segment, ids, cause=MANUAL, actor=actor, at=timezone.now())
    outcome.skip("not in the segment", wanted - outcome.changed)
    audit(segment, actor, "segment.members_removed", outcome)
    return outcome


def add_to_static_segment(*, business, customers, actor, segment_id):
    """The bulk action "Add to a static segment"."""
    return add_to_segment(segment=static_segment(business, segment_id), customers=customers, actor=actor)


def remove_from_static_segment(*, business, customers, actor, segment_id):
    """The bulk action "Remove from a static segment"."""
    return remove_from_segment(segment=static_segment(business, segment_id), customers=customers, actor=actor)


def static_segment(business, segment_id):
    segment = (
        Segment.objects.live().filter(business=business, pk=segment_id, kind=Segment.Kind.STATIC).first()
    )
    if segment is None:
        raise ValidationError({"segment_id": ["No such static segment in this business."]})
    return segment


def add_ids(*, segment, customer_ids, actor):
    """The API's add: ids of customers of another business, or unknown, are skipped as such."""
    customers = Customer.objects.filter(business_id=segment.business_id, pk__in=customer_ids).live()
    known = customers.count()
    outcome = add_to_segment(segment=segment, customers=customers, actor=actor)
    outcome.skip("no such customer", len(set(customer_ids)) - known)
    return outcome


def remove_ids(*, segment, customer_ids, actor):
    customers = Customer.objects.filter(business_id=segment.business_id, pk__in=customer_ids)
    return remove_from_segment(segment=segment, customers=customers, actor=actor)


def add_from_phones_file(*, segment, file, actor):
    """Add the customers whose phones a CSV (or XLSX) lists in its `phone` column. Returns
    (outcome, row errors as {row number: message}); rows with a phone no customer has are
    errors too, so nothing is lost silently."""
    check_static(segment)
    country = segment.business.default_country
    phones, errors = {}, {}
    try:
        with open_table(file) as table:
            headers = [header.strip().lower() for header in table.headers]
            if "phone" not in headers:
                raise ValidationError({"file": ["The file needs a column named “phone”."]})
            column = headers.index("phone")
            for number, values in table.rows:
                raw = values[column] if column < len(values) else ""
                try:
                    phones.setdefault(normalize_phone(raw, country), number)
                except ValidationError as error:
                    errors[number] = error.message_dict["phone"][0]
            for number, messages in table.row_errors.items():
                errors[number] = " ".join(messages)
    except ImportFileError as error:
        raise ValidationError({"file": [str(error)]}) from None
    customers = Customer.objects.filter(business_id=segment.business_id, phone__in=list(phones)).live()
    found = set(customers.values_list("phone", flat=True))
    for phone, number in phones.items():
        if phone not in found:
            errors[number] = f"No customer has the phone {phone}."
    outcome = add_to_segment(segment=segment, customers=customers, actor=actor)
    outcome.skip("bad or unknown phone", len(errors))
    return outcome, dict(sorted(errors.items()))


def audit(segment, actor, action, outcome):
    if outcome.changed:
        log_audit(
            business=segment.business,
            actor=actor,
            action=action,
            target=segment,
            changed=outcome.changed,
            skipped=outcome.skipped,
        )
