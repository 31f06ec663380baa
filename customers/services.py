"""Every write of the customers app. Each function takes an explicit `actor` (a user, or
None for the API and system work), runs in a transaction and writes the customer's
timeline itself."""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Min, Sum
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone

from customers.models import (
    Activity,
    ApiKey,
    BlacklistEntry,
    Customer,
    CustomerAccount,
    Dropoff,
    Note,
    Order,
    OrderItem,
    Tag,
    searchable,
)
from customers.signals import order_recorded, order_status_changed

ADDRESS_LIMIT_EXCEEDED = f"ADDRESS_LIMIT_EXCEEDED: Too many addresses (max {Dropoff.MAX_PER_CUSTOMER})."
CONTACT_FIELDS = [
    "phone",
    "first_name",
    "last_name",
    "preferred_name",
    "email",
    "date_of_birth",
    "language",
    "timezone",
    "status",
]


def log_activity(customer, kind, actor=None, **data):
    return Activity.objects.create(
        business_id=customer.business_id, customer=customer, kind=kind, actor=actor, data=data
    )


# Identity ---------------------------------------------------------------------------


def normalize_phone(raw, country):
    """E.164 form of a phone number; numbers without +prefix are read in `country`."""
    text = str(raw or "").strip()
    if not text:
        raise ValidationError({"phone": "A phone number is required."})
    try:
        number = phonenumbers.parse(text, (country or "US").upper())
    except phonenumbers.NumberParseException:
        raise ValidationError({"phone": f"“{text}” is not a phone number."}) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            {"phone": f"“{text}” is not a valid phone number for {country or 'its country'}."}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def find_customer_by_phone(business, phone):
    """The live customer with this E.164 phone. A merged customer's phone resolves to the
    survivor; an anonymized customer is never found, so the person comes back as new."""
    customers = Customer.objects.filter(business=business, phone=phone, anonymized_at__isnull=True)
    customer = customers.live().first()
    if customer is not None:
        return customer
    merged = customers.filter(merged_into__isnull=False).order_by("-deleted_at").first()
    seen = set()
    while merged is not None and merged.merged_into_id and merged.pk not in seen:
        seen.add(merged.pk)
        merged = Customer.objects.get(pk=merged.merged_into_id)
        if merged.deleted_at is None:
            return merged
    return None


def update_search_text(customer):
    account_emails = customer.accounts.exclude(email="").values_list("email", flat=True)
    customer.search_text = searchable(
        customer.first_name, customer.last_name, customer.preferred_name, customer.email, *account_emails
    )
    Customer.objects.filter(pk=customer.pk).update(search_text=customer.search_text)


def get_or_create_customer(*, business, phone, actor=None, **contact):
    """The customer for (business, phone), created if new. Safe when two requests bring
    the same new phone at once: the unique constraint lets one insert win."""
    e164 = normalize_phone(phone, business.default_country)
    customer = find_customer_by_phone(business, e164)
    if customer is not None:
        return customer, False
    contact = {key: value for key, value in contact.items() if value not in (None, "")}
    try:
        with transaction.atomic():
            customer = Customer.objects.create(
                business=business,
                phone=e164,
                search_text=searchable(
                    contact.get("first_name"),
                    contact.get("last_name"),
                    contact.get("preferred_name"),
                    contact.get("email"),
                ),
                **contact,
            )
    except IntegrityError:
        return Customer.objects.live().get(business=business, phone=e164), False
    log_activity(customer, Activity.Kind.CREATED, actor, phone=e164)
    return customer, True


@transaction.atomic
def link_account(*, business, phone, provider, email="", external_id="", actor=None):
    """Attach a storefront account to the person with that phone (creating the customer)."""
    customer, _ = get_or_create_customer(business=business, phone=phone, actor=actor, email=email)
    accounts = CustomerAccount.objects.filter(business=business, provider=provider)
    if external_id:
        account = accounts.filter(external_id=external_id).first()
    else:
        # A guest checkout has no external id: the same email at the same provider is one account.
        account = accounts.filter(customer=customer, external_id="", email__iexact=email).first()
    if account is None:
        account = CustomerAccount.objects.create(
            business=business,
            customer=customer,
            provider=provider,
            email=email,
            external_id=external_id,
            phone=str(phone),
        )
    else:
        previous_owner = account.customer
        account.customer, account.email, account.phone = customer, email, str(phone)
        account.save(update_fields=["customer", "email", "phone"])
        if previous_owner.pk != customer.pk:
            update_search_text(previous_owner)
    update_search_text(customer)
    log_activity(customer, Activity.Kind.ACCOUNT_LINKED, actor, provider=provider, account_id=account.pk)
    return account


# Addresses --------------------------------------------------------------------------


def address_key(address):
    parts = [
        address.get(name) or "" for name in ("street", "street2", "city", "state", "postal_code", "country")
    ]
    return "|".join(" ".join(re.sub(r"[^\w\s]", " ", str(part)).lower().split()) for part in parts)


def dropoff_for(customer, address, kind=Dropoff.Kind.SHIPPING):
    """The customer's dropoff at this address, created if new (the customer row is locked)."""
    key = address_key(address)
    dropoff = Dropoff.objects.filter(customer=customer, kind=kind, address_key=key).first()
    if dropoff is not None:
        return dropoff
    existing = Dropoff.objects.filter(customer=customer).count()
    if existing >= Dropoff.MAX_PER_CUSTOMER:
        raise ValidationError({"address": ADDRESS_LIMIT_EXCEEDED})
    fields = ("street", "street2", "city", "state", "postal_code", "country", "lat", "lng")
    values = {name: address[name] for name in fields if address.get(name) not in (None, "")}
    values["country"] = values.get("country", "").upper()
    default_exists = Dropoff.objects.filter(customer=customer, kind=kind, is_default=True).exists()
    return Dropoff.objects.create(
        business_id=customer.business_id,
        customer=customer,
        kind=kind,
        address_key=key,
        is_default=not default_exists,
        **values,
    )


@transaction.atomic
def add_dropoff(*, customer, address, kind=Dropoff.Kind.SHIPPING, actor):
    customer = lock(customer)
    return dropoff_for(customer, address, kind)


# Orders -----------------------------------------------------------------------------


@dataclass
class RecordedOrder:
    order: Order
    created: bool

    @property
    def customer_created(self):
        return self.order.created_customer

    @property
    def blocked(self):
        return self.order.status == Order.Status.BLOCKED


def lock(customer):
    return Customer.objects.select_for_update().get(pk=customer.pk)


def record_order(*, business, external_id, **order):
    """Record an order once per external id: find or create the customer, reuse or add
    the dropoff, store the items, keep the customer's stats exact and tell listeners."""
    existing = Order.objects.filter(business=business, external_id=external_id).first()
    if existing is not None:
        return RecordedOrder(existing, created=False)
    try:
        return _record_new_order(business=business, external_id=external_id, **order)
    except IntegrityError:
        # A concurrent request recorded the same external id a moment ago; everything this
        # one wrote (a new customer, an address) was rolled back with it.
        existing = Order.objects.filter(business=business, external_id=external_id).first()
        if existing is None:
            raise
        return RecordedOrder(existing, created=False)


@transaction.atomic
def _record_new_order(
    *,
    business,
    external_id,
    phone,
    amount,
    currency="",
    placed_at=None,
    status=Order.Status.COMPLETED,
    source="",
    address=None,
    items=(),
    actor=None,
    **contact,
):
    customer, customer_created = get_or_create_customer(
        business=business, phone=phone, actor=actor, **contact
    )
    customer = lock(customer)
    if not customer_created:
        fill_blank_contact(customer, contact)
    if customer.is_blacklisted:
        status = Order.Status.BLOCKED
    placed_at = placed_at or timezone.now()
    order = Order.objects.create(
        business=business,
        external_id=external_id,
        customer=customer,
        amount=Decimal(amount),
        currency=(currency or business.currency).upper(),
        status=status,
        placed_at=placed_at,
        source=source,
        completed_at=placed_at if status == Order.Status.COMPLETED else None,
        created_customer=customer_created,
        dropoff=dropoff_for(customer, address) if address else None,
    )
    OrderItem.objects.bulk_create(OrderItem(business=business, order=order, **item) for item in items)
    if status in Order.COUNTED_STATUSES:
        add_to_stats(customer, order)
    log_activity(
        customer,
        Activity.Kind.ORDER_RECORDED,
        actor,
        order_id=order.pk,
        external_id=external_id,
        amount=str(order.amount),
        currency=order.currency,
        status=order.status,
    )
    order_recorded.send(sender=Order, order=order, customer=customer)
    return RecordedOrder(order, created=True)


def fill_blank_contact(customer, contact):
    blanks = {key: value for key, value in contact.items() if value and not getattr(customer, key)}
    if blanks:
        for key, value in blanks.items():
            setattr(customer, key, value)
        customer.save(update_fields=[*blanks, "updated_at"])
        update_search_text(customer)


def add_to_stats(customer, order):
    # One UPDATE with F() expressions: concurrent orders never lose each other's counts.
    Customer.objects.filter(pk=customer.pk).update(
        order_count=F("order_count") + 1,
        total_spent=F("total_spent") + order.amount,
        first_order_at=Least(Coalesce("first_order_at", order.placed_at), order.placed_at),
        last_order_at=Greatest(Coalesce("last_order_at", order.placed_at), order.placed_at),
    )


def recompute_stats(customer_id):
    """Stats from the customer's counted orders (after a status change, merge or undo)."""
    stats = Order.objects.filter(customer_id=customer_id, status__in=Order.COUNTED_STATUSES).aggregate(
        order_count=Count("id"),
        total_spent=Coalesce(Sum("amount"), Decimal(0)),
        first_order_at=Min("placed_at"),
        last_order_at=Max("placed_at"),
    )
    Customer.objects.filter(pk=customer_id).update(**stats)


@transaction.atomic
def change_order_status(*, order, status, actor):
    if status not in Order.Status.values or status == Order.Status.BLOCKED:
        raise ValidationError({"status": f"“{status}” is not a status an order can be changed to."})
    customer = lock(order.customer)
    order = Order.objects.select_for_update().get(pk=order.pk)
    old_status = order.status
    if old_status == status:
        return order
    order.status = status
    if status == Order.Status.COMPLETED and order.completed_at is None:
        order.completed_at = timezone.now()
    order.save(update_fields=["status", "completed_at"])
    recompute_stats(customer.pk)
    log_activity(
        customer,
        Activity.Kind.ORDER_STATUS_CHANGED,
        actor,
        order_id=order.pk,
        external_id=order.external_id,
        old=old_status,
        new=status,
    )
    order_status_changed.send(sender=Order, order=order, old_status=old_status)
    return order


@transaction.atomic
def change_order_address(*, order, address, actor):
    """The customer changed the address mid-delivery: the first address stays on record."""
    customer = lock(order.customer)
    order = Order.objects.select_for_update().get(pk=order.pk)
    new_dropoff = dropoff_for(customer, address)
    if new_dropoff.pk == order.dropoff_id:
        return order
    if order.original_dropoff_id is None:
        order.original_dropoff_id = order.dropoff_id
    old = order.dropoff_id
    order.dropoff = new_dropoff
    order.save(update_fields=["dropoff", "original_dropoff"])
    log_activity(
        customer,
        Activity.Kind.ORDER_ADDRESS_CHANGED,
        actor,
        order_id=order.pk,
        external_id=order.external_id,
        old_dropoff_id=old,
        new_dropoff_id=new_dropoff.pk,
    )
    return order


# Blacklist --------------------------------------------------------------------------


@transaction.atomic
def blacklist_customer(*, customer, reason, note="", actor):
    return _set_blacklisted(customer, True, reason, note, actor)


@transaction.atomic
def unblacklist_customer(*, customer, reason, note="", actor):
    return _set_blacklisted(customer, False, reason, note, actor)


def _set_blacklisted(customer, blacklisted, reason, note, actor):
    if reason not in BlacklistEntry.Reason.values:
        raise ValidationError({"reason": "Choose a reason."})
    customer = lock(customer)
    if customer.is_blacklisted == blacklisted:
        state = "already blacklisted" if blacklisted else "not blacklisted"
        raise ValidationError(f"{customer} is {state}.")
    customer.is_blacklisted = blacklisted
    customer.save(update_fields=["is_blacklisted", "updated_at"])
    action = BlacklistEntry.Action.BLACKLISTED if blacklisted else BlacklistEntry.Action.UNBLACKLISTED
    entry = BlacklistEntry.objects.create(
        business_id=customer.business_id,
        customer=customer,
        action=action,
        reason=reason,
        note=note,
        actor=actor,
    )
    kind = Activity.Kind.BLACKLISTED if blacklisted else Activity.Kind.UNBLACKLISTED
    log_activity(customer, kind, actor, reason=reason, note=note)
    return entry


def blacklist_many(*, customers, reason, note="", actor):
    """Blacklist each customer not yet blacklisted; returns how many changed."""
    changed = 0
    for customer in customers:
        if not customer.is_blacklisted:
            blacklist_customer(customer=customer, reason=reason, note=note, actor=actor)
            changed += 1
    return changed


def unblacklist_many(*, customers, reason, note="", actor):
    changed = 0
    for customer in customers:
        if customer.is_blacklisted:
            unblacklist_customer(customer=customer, reason=reason, note=note, actor=actor)
            changed += 1
    return changed


# Contact data, notes, tags, deletion ------------------------------------------------


@transaction.atomic
def update_contact(*, customer, actor, **changes):
    """Change contact fields; the timeline keeps the old and new values."""
    unknown = set(changes) - set(CONTACT_FIELDS)
    if unknown:
        raise ValidationError(f"Not contact fields: {', '.join(sorted(unknown))}.")
    customer = lock(customer)
    if "phone" in changes:
        changes["phone"] = normalize_phone(changes["phone"], customer.business.default_country)
        taken = Customer.objects.live().filter(business_id=customer.business_id, phone=changes["phone"])
        if taken.exclude(pk=customer.pk).exists():
            raise ValidationError({"phone": "Another customer of this business has this phone number."})
    diff = {
        field: [_plain(getattr(customer, field)), _plain(value)]
        for field, value in changes.items()
        if getattr(customer, field) != value
    }
    if not diff:
        return customer
    for field in diff:
        setattr(customer, field, changes[field])
    customer.full_clean(exclude=["tags", "referred_by", "merged_into", "business"])
    customer.save(update_fields=[*diff, "updated_at"])
    update_search_text(customer)
    log_activity(customer, Activity.Kind.CONTACT_UPDATED, actor, changes=diff)
    return customer


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


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
    tag, _ = Tag.objects.get_or_create(
        business_id=customer.business_id, name=name, defaults={"color": color} if color else {}
    )
    if not customer.tags.filter(pk=tag.pk).exists():
        customer.tags.add(tag)
        log_activity(customer, Activity.Kind.TAGGED, actor, tag=tag.name)
    return tag


@transaction.atomic
def untag_customer(*, customer, tag, actor):
    if customer.tags.filter(pk=tag.pk).exists():
        customer.tags.remove(tag)
        log_activity(customer, Activity.Kind.UNTAGGED, actor, tag=tag.name)


@transaction.atomic
def delete_customer(*, customer, actor):
    """Soft delete: hidden everywhere, restorable by an owner."""
    customer = lock(customer)
    if customer.deleted_at is None:
        customer.deleted_at = timezone.now()
        customer.save(update_fields=["deleted_at", "updated_at"])
        log_activity(customer, Activity.Kind.DELETED, actor)
    return customer


@transaction.atomic
def restore_customer(*, customer, actor):
    customer = lock(customer)
    if customer.merged_into_id:
        raise ValidationError("A merged customer comes back only by undoing the merge.")
    if customer.deleted_at is None:
        return customer
    taken = Customer.objects.live().filter(business_id=customer.business_id, phone=customer.phone)
    if taken.exists():
        raise ValidationError(f"Another customer now has the phone {customer.phone}; change that one first.")
    customer.deleted_at = None
    customer.save(update_fields=["deleted_at", "updated_at"])
    log_activity(customer, Activity.Kind.RESTORED, actor)
    return customer


# API keys ---------------------------------------------------------------------------


def hash_secret(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def create_api_key(*, business, name, actor):
    """A new key for the business. The secret is returned once and only its hash is kept."""
    prefix = secrets.token_hex(4)
    secret = f"{prefix}.{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        business=business, name=name, prefix=prefix, hashed_secret=hash_secret(secret)
    )
    return api_key, secret


@transaction.atomic
def revoke_api_key(*, api_key, actor):
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def authenticate_api_key(secret):
    """The live key for this secret, or None."""
    prefix = (secret or "").split(".", 1)[0]
    api_key = ApiKey.objects.select_related("business").filter(prefix=prefix, revoked_at__isnull=True).first()
    if api_key is None or not hmac.compare_digest(api_key.hashed_secret, hash_secret(secret)):
        return None
    return api_key
