from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from customers import choices
from customers.models import CONTACT_FIELDS, Activity, Customer, Note, Tag, validate_tag_color
from customers.normalize import check_no_extension, normalize_phone, plain
from customers.services.activity import log_activity
from customers.services.duplicates import forget_duplicate_candidates
from customers.services.identity import lock, update_search_text
from customers.services.webhooks import customer_updated, emit_events
from customers.signals import tags_changed


@transaction.atomic
def update_contact(*, customer, actor, **changes):
    """Change contact fields; the timeline keeps the old and new values."""
    unknown = set(changes) - set(CONTACT_FIELDS)
    if unknown:
        raise ValidationError(f"Not contact fields: {', '.join(sorted(unknown))}.")
    for field, known, noun in (
        ("language", choices.LANGUAGE_CODES, "language"),
        ("timezone", choices.TIME_ZONE_NAMES, "time zone"),
    ):
        if changes.get(field) and changes[field] not in known:
            raise ValidationError({field: f"Choose a {noun} from the list."})
    customer = lock(customer)
    if "phone" in changes:
        check_no_extension(changes["phone"])
        changes["phone"] = normalize_phone(changes["phone"], customer.business.default_country)
        taken = Customer.objects.live().filter(business_id=customer.business_id, phone=changes["phone"])
        if taken.exclude(pk=customer.pk).exists():
            raise ValidationError({"phone": "Another customer of this business has this phone number."})
    diff = {
        field: [plain(getattr(customer, field)), plain(value)]
        for field, value in changes.items()
        if getattr(customer, field) != value
    }
    if not diff:
        return customer
    for field in diff:
        setattr(customer, field, changes[field])
    # A verification was of the old number: cash on delivery to the new one is flagged again.
    unverified = []
    if "phone" in diff and customer.phone_verified:
        customer.phone_verified = False
        unverified = ["phone_verified"]
    customer.full_clean(exclude=["tags", "referred_by", "merged_into", "business"])
    customer.save(update_fields=[*diff, *unverified, "updated_at"])
    update_search_text(customer)
    log_activity(customer, Activity.Kind.CONTACT_UPDATED, actor, changes=diff)
    emit_events(business_id=customer.business_id, events=[customer_updated(customer.pk, diff)])
    return customer


@transaction.atomic
def add_note(*, customer, body, actor):
    body = body.strip()
    if not body:
        raise ValidationError({"body": "A note cannot be empty."})
    note = Note.objects.create(business_id=customer.business_id, customer=customer, author=actor, body=body)
    log_activity(customer, Activity.Kind.NOTE_ADDED, actor, note_id=note.pk)
    return note


@transaction.atomic
def tag_customer(*, customer, name, actor, color=None):
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "A tag needs a name."})
    if color is not None:
        validate_tag_color(color)
    # "VIP" and "vip" are one tag: the first spelling stays.
    tag, _ = Tag.objects.get_or_create(
        business_id=customer.business_id,
        name__iexact=name,
        defaults={"name": name, **({"color": color} if color else {})},
    )
    if not customer.tags.filter(pk=tag.pk).exists():
        customer.tags.add(tag)
        log_activity(customer, Activity.Kind.TAGGED, actor, tag=tag.name)
        tags_changed.send(sender=Tag, business_id=customer.business_id, customer_ids=[customer.pk])
    return tag


@transaction.atomic
def untag_customer(*, customer, tag, actor):
    if customer.tags.filter(pk=tag.pk).exists():
        customer.tags.remove(tag)
        log_activity(customer, Activity.Kind.UNTAGGED, actor, tag=tag.name)
        tags_changed.send(sender=Tag, business_id=customer.business_id, customer_ids=[customer.pk])


@transaction.atomic
def delete_customer(*, customer, actor):
    """Soft delete: hidden everywhere, restorable by an owner."""
    customer = lock(customer)
    if customer.deleted_at is None:
        customer.deleted_at = timezone.now()
        customer.save(update_fields=["deleted_at", "updated_at"])
        forget_duplicate_candidates([customer.pk])
        log_activity(customer, Activity.Kind.DELETED, actor)
    return customer


@transaction.atomic
def restore_customer(*, customer, actor):
    customer = lock(customer)
    if customer.merged_into_id:
        raise ValidationError("A merged customer comes back only by undoing the merge.")
    if customer.anonymized_at:
        raise ValidationError("An anonymized customer cannot be restored: their data is gone.")
    if customer.deleted_at is None:
        return customer
    taken = Customer.objects.live().filter(business_id=customer.business_id, phone=customer.phone)
    if taken.exists():
        raise ValidationError(f"Another customer now has the phone {customer.phone}; change that one first.")
    customer.deleted_at = None
    customer.save(update_fields=["deleted_at", "updated_at"])
    log_activity(customer, Activity.Kind.RESTORED, actor)
    return customer
