"""Every write of the customers app. Each function takes an explicit `actor` (a user, or
None for the API and system work), runs in a transaction and writes the customer's
timeline itself."""

import csv
import hashlib
import hmac
import io
import logging
import secrets
import tempfile
import uuid
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import phonenumbers
from django.apps import apps as django_apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone
from django_q.tasks import async_task

from customers import choices, duplicates, exports, imports, jobs
from customers.jobs import JobCancelled, claim_job, finish_cancelled, finish_job, report_progress
from customers.merge_registry import DROPOFFS, MERGE_FIELDS, MERGE_HANDLING, MOVE
from customers.models import (
    ADDRESS_LIMIT_EXCEEDED,
    CONTACT_FIELDS,
    Activity,
    ApiKey,
    AuditEntry,
    BlacklistEntry,
    Business,
    Customer,
    CustomerAccount,
    Dropoff,
    DuplicateCandidate,
    DuplicateDismissal,
    DuplicateScan,
    ExportJob,
    ImportJob,
    MergeRecord,
    Note,
    Order,
    OrderItem,
    Tag,
    searchable,
    validate_tag_color,
)
from customers.normalize import address_key, check_no_extension, neutralize, normalize_phone
from customers.queries import default_field_choices, find_customer_by_phone, undo_blockers
from customers.signals import customers_merged, merge_undone, order_recorded, order_status_changed


def log_activity(customer, kind, actor=None, **data):
    activity = unsaved_activity(customer, kind, actor, **data)
    activity.save()
    return activity


def unsaved_activity(customer, kind, actor=None, **data):
    return Activity(business_id=customer.business_id, customer=customer, kind=kind, actor=actor, data=data)


def log_audit(*, business, actor, action, target="", **data):
    """Record a change to the business itself (`actor` None: the system), in the caller's transaction."""
    return AuditEntry.objects.create(
        business=business, actor=actor, action=action, target=str(target)[:200], data=data
    )


# Identity ---------------------------------------------------------------------------


def update_search_text(customer):
    account_emails = customer.accounts.exclude(email="").values_list("email", flat=True)
    customer.search_text = searchable(
        customer.first_name, customer.last_name, customer.preferred_name, customer.email, *account_emails
    )
    Customer.objects.filter(pk=customer.pk).update(search_text=customer.search_text)


def get_or_create_customer(*, business, phone, actor=None, for_update=False, **contact):
    """The customer for (business, phone), created if new. Safe when two requests bring
    the same new phone at once: the unique constraint lets one insert win. `for_update`
    returns it locked; a customer this call created is locked by its insert already."""
    customer, created = find_or_insert_customer(business, phone, for_update, contact)
    if created:
        log_activity(customer, Activity.Kind.CREATED, actor, phone=customer.phone)
    return customer, created


def find_or_insert_customer(business, phone, for_update, contact):
    """get_or_create_customer without its Activity, for callers that write theirs in bulk."""
    e164 = normalize_phone(phone, business.default_country)
    customer = find_customer_by_phone(business, e164, for_update)
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
        winner = Customer.objects.live().filter(business=business, phone=e164)
        return (winner.select_for_update() if for_update else winner).get(), False
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


def dropoff_for(customer, address, kind=Dropoff.Kind.SHIPPING, new_customer=False):
    """The customer's dropoff at this address, created if new (the customer row is locked).
    A customer has at most a few dropoffs: one query reads them all, to find the address,
    count them and see whether the kind has a default; a customer created in this
    transaction has none to read."""
    key = address_key(address)
    dropoffs = [] if new_customer else list(Dropoff.objects.filter(customer=customer).order_by())
    for dropoff in dropoffs:
        if dropoff.kind == kind and dropoff.address_key == key:
            return dropoff
    if len(dropoffs) >= Dropoff.MAX_PER_CUSTOMER:
        raise ValidationError({"address": ADDRESS_LIMIT_EXCEEDED})
    fields = ("street", "street2", "city", "state", "postal_code", "country", "lat", "lng")
    values = {name: address[name] for name in fields if address.get(name) not in (None, "")}
    values["country"] = values.get("country", "").upper()
    default_exists = any(dropoff.kind == kind and dropoff.is_default for dropoff in dropoffs)
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
    the dropoff, store the items, keep the customer's stats exact and tell listeners.

    An external id already recorded (a storefront retrying, now or concurrently) fails at
    the order's insert, which rolls back everything the attempt wrote, and the order
    recorded first is returned. Asking first would cost every new order a query."""
    try:
        return _record_new_order(business=business, external_id=external_id, **order)
    except IntegrityError:
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
    customer, customer_created = find_or_insert_customer(business, phone, True, contact)
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
        dropoff=dropoff_for(customer, address, new_customer=customer_created) if address else None,
    )
    OrderItem.objects.bulk_create(OrderItem(business=business, order=order, **item) for item in items)
    if status in Order.COUNTED_STATUSES:
        add_to_stats(customer, order)
    activities = [
        unsaved_activity(
            customer,
            Activity.Kind.ORDER_RECORDED,
            actor,
            order_id=order.pk,
            external_id=external_id,
            amount=str(order.amount),
            currency=order.currency,
            status=order.status,
        )
    ]
    if customer_created:
        activities.insert(0, unsaved_activity(customer, Activity.Kind.CREATED, actor, phone=customer.phone))
    # One insert for both: this path runs for every order a storefront sends.
    Activity.objects.bulk_create(activities)
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
    """`customer` was read under its row lock (or inserted) in this transaction: its stats
    are current and no concurrent order can change them before the commit. Plain values
    cost a third of what the same UPDATE in F() expressions costs to build."""
    Customer.objects.filter(pk=customer.pk).update(
        order_count=customer.order_count + 1,
        total_spent=customer.total_spent + order.amount,
        first_order_at=min(customer.first_order_at or order.placed_at, order.placed_at),
        last_order_at=max(customer.last_order_at or order.placed_at, order.placed_at),
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


def change_imported_order(*, order, status, address, actor):
    """An import's change of a recorded order, made as by hand: its status, then its address."""
    if status:
        order = change_order_status(order=order, status=status, actor=actor)
    if address:
        change_order_address(order=order, address=address, actor=actor)


# Blacklist --------------------------------------------------------------------------


@transaction.atomic
def blacklist_customer(*, customer, reason, note="", actor):
    return _set_blacklisted(customer, True, reason, note, actor)


@transaction.atomic
def unblacklist_customer(*, customer, reason, note="", actor):
    return _set_blacklisted(customer, False, reason, note, actor)


def _set_blacklisted(customer, blacklisted, reason, note, actor):
    reasons = BlacklistEntry.Reason if blacklisted else BlacklistEntry.UnblacklistReason
    if reason not in reasons.values:
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
        forget_duplicate_candidates([customer.pk])
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


# Business settings --------------------------------------------------------------------


@transaction.atomic
def update_business_settings(*, business, actor, name, default_country, currency, timezone):
    """Change what the owner may set of their business. Returns the changes as
    {field: [old, new]}. The default country reads phones typed from now on; stored phones
    and orders keep theirs."""
    values = {
        "name": " ".join(name.split()),
        "default_country": default_country.strip().upper(),
        "currency": currency.strip().upper(),
        "timezone": timezone.strip(),
    }
    errors = {}
    if not values["name"]:
        errors["name"] = "A business needs a name."
    if values["default_country"] not in phonenumbers.SUPPORTED_REGIONS:
        errors["default_country"] = "Choose a country from the list."
    if not choices.CURRENCY_CODE.fullmatch(values["currency"]):
        errors["currency"] = "A currency is three letters (ISO 4217), e.g. USD."
    if values["timezone"] not in choices.TIME_ZONE_NAMES:
        errors["timezone"] = "Choose a time zone from the list."
    if errors:
        raise ValidationError(errors)
    business = Business.objects.select_for_update().get(pk=business.pk)
    changes = {
        field: [getattr(business, field), value]
        for field, value in values.items()
        if getattr(business, field) != value
    }
    for field, (_, value) in changes.items():
        setattr(business, field, value)
    if changes:
        business.save(update_fields=list(changes))
        log_audit(business=business, actor=actor, action="business.settings_changed", changes=changes)
    return changes


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
    log_audit(business=business, actor=actor, action="api_key.created", target=api_key, api_key_id=api_key.pk)
    return api_key, secret


@transaction.atomic
def rename_api_key(*, api_key, name, actor):
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "An API key needs a name."})
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    old_name = api_key.name
    if name == old_name:
        return api_key
    api_key.name = name
    api_key.save(update_fields=["name"])
    log_audit(
        business=api_key.business, actor=actor, action="api_key.renamed", target=api_key,
        api_key_id=api_key.pk, old=old_name, new=name,
    )
    return api_key


@transaction.atomic
def revoke_api_key(*, api_key, actor):
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked_at is not None:
        return api_key
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at"])
    log_audit(
        business=api_key.business, actor=actor, action="api_key.revoked", target=api_key,
        api_key_id=api_key.pk,
    )
    return api_key


def authenticate_api_key(secret):
    """The live key for this secret, or None."""
    prefix = (secret or "").split(".", 1)[0]
    # At most one: the prefix is unique (and first() would add an ORDER BY).
    keys = ApiKey.objects.select_related("business").filter(prefix=prefix, revoked_at__isnull=True)
    api_key = next(iter(keys), None)
    if api_key is None or not hmac.compare_digest(api_key.hashed_secret, hash_secret(secret)):
        return None
    return api_key


# Duplicates and merges --------------------------------------------------------------

CONFLICT = "conflict"
UNDO_SURVIVOR_FIELDS = "survivor_changes"
# A scan still unfinished after this long is taken for dead and a new one may start.
DUPLICATE_SCAN_STALE = timedelta(hours=2)


def json_value(value):
    if isinstance(value, Decimal):
        return str(value)
    return _plain(value)


def row_state(obj):
    return {field.attname: json_value(getattr(obj, field.attname)) for field in obj._meta.concrete_fields}


def from_state(model, state):
    return {name: model._meta.get_field(name).to_python(value) for name, value in state.items()}


def lock_customers(ids):
    """The customers with these ids, locked in id order so that concurrent merges never deadlock."""
    customers = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    missing = sorted(set(ids) - set(customers))
    if missing:
        raise ValidationError(f"No customer #{missing[0]}.")
    return customers


def check_mergeable(survivor, merged):
    if any(customer.business_id != survivor.business_id for customer in merged):
        raise ValidationError("Customers of different businesses cannot be merged.")
    for customer in [survivor, *merged]:
        if customer.anonymized_at:
            raise ValidationError(
                f"Customer #{customer.pk} is anonymized and cannot be merged.", code=CONFLICT
            )
        if customer.merged_into_id:
            raise ValidationError(
                f"Customer #{customer.pk} was already merged into #{customer.merged_into_id}.", code=CONFLICT
            )
        if customer.deleted_at:
            raise ValidationError(f"Customer #{customer.pk} is deleted; restore it first.", code=CONFLICT)


@transaction.atomic
def merge_customers(*, survivor, merged, field_choices=None, reason, actor):
    """Merge `merged` customers into `survivor`: every row that points at them moves to the
    survivor, they stay soft-deleted with `merged_into`, and a MergeRecord keeps what undo needs."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why these customers are the same person."})
    merged_ids = sorted({customer.pk for customer in merged})
    if not merged_ids:
        raise ValidationError("Choose at least one customer to merge into the survivor.")
    if survivor.pk in merged_ids:
        raise ValidationError("A customer cannot be merged with itself.")
    customers = lock_customers([survivor.pk, *merged_ids])
    survivor, merged = customers[survivor.pk], [customers[pk] for pk in merged_ids]
    check_mergeable(survivor, merged)
    choices = default_field_choices(survivor, merged)
    for field, source_id in (field_choices or {}).items():
        if field not in MERGE_FIELDS:
            raise ValidationError(f"“{field}” is not a field a merge can choose.")
        if int(source_id) not in customers:
            raise ValidationError(f"The {field} must come from one of the merged customers.")
        choices[field] = int(source_id)

    snapshot = {"customers": {str(c.pk): row_state(c) for c in [survivor, *merged]}}
    moved = {DROPOFFS: merge_dropoffs(survivor, merged_ids, snapshot)}
    for label, handling in MERGE_HANDLING.items():
        if handling == MOVE:
            moved[label] = move_rows(label, merged_ids, survivor.pk, involved=customers)
    merge_tags(survivor, merged_ids, snapshot)
    forget_duplicate_candidates(merged_ids)

    now = timezone.now()
    Customer.objects.filter(pk__in=merged_ids).update(deleted_at=now, merged_into=survivor, updated_at=now)
    snapshot[UNDO_SURVIVOR_FIELDS] = update_survivor(survivor, merged, customers, choices)
    for customer_id in [survivor.pk, *merged_ids]:
        recompute_stats(customer_id)
    update_search_text(survivor)

    record = MergeRecord.objects.create(
        business_id=survivor.business_id,
        survivor=survivor,
        merged_ids=merged_ids,
        reason=reason,
        actor=actor,
        field_choices=choices,
        snapshot=snapshot,
        moved=moved,
    )
    counts = {label: sum(len(ids) for ids in by_owner.values()) for label, by_owner in moved.items()}
    log_activity(
        survivor,
        Activity.Kind.MERGED,
        actor,
        record_id=record.pk,
        merged=[{"id": c.pk, "name": c.display_name, "phone": c.phone} for c in merged],
        reason=reason,
        moved={label: count for label, count in counts.items() if count},
    )
    for customer in merged:
        log_activity(customer, Activity.Kind.MERGED_INTO, actor, record_id=record.pk, survivor_id=survivor.pk)
    customers_merged.send(sender=MergeRecord, record=record, survivor=survivor, merged=merged)
    return record


def move_rows(label, merged_ids, survivor_id, involved):
    """Re-point the rows of one foreign key from the merged customers to the survivor;
    returns {merged customer id: [row ids]}."""
    model_label, field_name = label.rsplit(".", 1)
    model = django_apps.get_model(model_label)
    column = model._meta.get_field(field_name).attname
    rows = model._base_manager.filter(**{f"{column}__in": merged_ids})
    if model is Customer:
        # The merged customers point at each other only in ways the merge rewrites itself.
        rows = rows.exclude(pk__in=list(involved))
    moved = defaultdict(list)
    for pk, owner in rows.values_list("pk", column):
        moved[str(owner)].append(pk)
    rows.update(**{column: survivor_id})
    return dict(moved)


def merge_dropoffs(survivor, merged_ids, snapshot):
    """Move the merged customers' addresses; one identical to an address already kept
    collapses into it (its orders follow). The survivor keeps its default per kind. Returns
    the moved dropoffs as {merged customer id: [ids]}."""
    kept = {}
    defaults = set()
    for dropoff in Dropoff.objects.filter(customer=survivor):
        kept[dropoff.kind, dropoff.address_key] = dropoff.pk
        if dropoff.is_default:
            defaults.add(dropoff.kind)
    moved, collapsed_into, collapsed_rows, undefaulted = defaultdict(list), {}, [], []
    merged_dropoffs = Dropoff.objects.filter(customer_id__in=merged_ids)
    for dropoff in merged_dropoffs.order_by("customer_id", "-is_default", "pk"):
        key = (dropoff.kind, dropoff.address_key)
        if key in kept:
            collapsed_into[dropoff.pk] = kept[key]
            collapsed_rows.append(row_state(dropoff))
            continue
        kept[key] = dropoff.pk
        moved[str(dropoff.customer_id)].append(dropoff.pk)
        if dropoff.is_default and dropoff.kind in defaults:
            undefaulted.append(dropoff.pk)
        elif dropoff.is_default:
            defaults.add(dropoff.kind)
    repointed = Order.objects.filter(
        Q(dropoff_id__in=collapsed_into) | Q(original_dropoff_id__in=collapsed_into)
    ).values_list("pk", "dropoff_id", "original_dropoff_id")
    snapshot["dropoffs"] = {
        "collapsed": collapsed_rows,
        "collapsed_into": {str(pk): kept_pk for pk, kept_pk in collapsed_into.items()},
        "orders": {str(pk): [dropoff_id, original_id] for pk, dropoff_id, original_id in repointed},
        "undefaulted": undefaulted,
    }
    for collapsed, kept_pk in collapsed_into.items():
        Order.objects.filter(dropoff_id=collapsed).update(dropoff_id=kept_pk)
        Order.objects.filter(original_dropoff_id=collapsed).update(original_dropoff_id=kept_pk)
    Dropoff.objects.filter(pk__in=collapsed_into).delete()
    Dropoff.objects.filter(pk__in=undefaulted).update(is_default=False)
    merged_dropoffs.update(customer_id=survivor.pk)
    return dict(moved)


def merge_tags(survivor, merged_ids, snapshot):
    """The survivor gets the union of the tags."""
    links = Customer.tags.through.objects
    merged_links = list(links.filter(customer_id__in=merged_ids).values_list("customer_id", "tag_id"))
    own = set(links.filter(customer_id=survivor.pk).values_list("tag_id", flat=True))
    added = sorted({tag_id for _, tag_id in merged_links} - own)
    links.filter(customer_id__in=merged_ids).delete()
    links.bulk_create([Customer.tags.through(customer_id=survivor.pk, tag_id=tag_id) for tag_id in added])
    tags = defaultdict(list)
    for customer_id, tag_id in merged_links:
        tags[str(customer_id)].append(tag_id)
    snapshot["tags"] = {"merged": dict(tags), "added": added}


def update_survivor(survivor, merged, customers, choices):
    """Apply the chosen fields and what the survivor inherits (the most restrictive blacklist
    state, the earliest customer-since date, a referrer; the loyalty app's receivers add the
    tier and the points). Returns {field: [before, after]} for undo."""
    changes = {field: getattr(customers[source_id], field) for field, source_id in choices.items()}
    if any(customer.is_blacklisted for customer in merged):
        changes["is_blacklisted"] = True
    changes["created_at"] = min(c.created_at for c in [survivor, *merged])
    involved = set(customers)
    referrers = [c.referred_by_id for c in [survivor, *merged] if c.referred_by_id not in involved | {None}]
    changes["referred_by_id"] = referrers[0] if referrers else None
    changes = {field: value for field, value in changes.items() if getattr(survivor, field) != value}
    undo = {
        field: [json_value(getattr(survivor, field)), json_value(value)] for field, value in changes.items()
    }
    for field, value in changes.items():
        setattr(survivor, field, value)
    survivor.save(update_fields=[*changes, "updated_at"])
    return undo


@transaction.atomic
def undo_merge(*, record, actor):
    """Bring the merged customers back with their fields, move back exactly the rows the
    merge moved (newer rows stay with the survivor) and recompute everyone's stats."""
    record = MergeRecord.objects.select_for_update().get(pk=record.pk)
    customers = lock_customers([record.survivor_id, *record.merged_ids])
    blockers = undo_blockers(record)
    if blockers:
        raise ValidationError(blockers, code=CONFLICT)
    survivor = customers[record.survivor_id]
    snapshot = record.snapshot
    dropoffs = snapshot["dropoffs"]

    for label, by_owner in record.moved.items():
        model_label, field_name = label.rsplit(".", 1)
        model = django_apps.get_model(model_label)
        column = model._meta.get_field(field_name).attname
        for owner, ids in by_owner.items():
            model._base_manager.filter(pk__in=ids).update(**{column: int(owner)})
    Dropoff.objects.filter(pk__in=dropoffs["undefaulted"]).update(is_default=True)
    Dropoff.objects.bulk_create([Dropoff(**from_state(Dropoff, row)) for row in dropoffs["collapsed"]])
    orders_by_dropoffs = defaultdict(list)
    for pk, (dropoff_id, original_id) in dropoffs["orders"].items():
        orders_by_dropoffs[dropoff_id, original_id].append(int(pk))
    for (dropoff_id, original_id), ids in orders_by_dropoffs.items():
        Order.objects.filter(pk__in=ids).update(dropoff_id=dropoff_id, original_dropoff_id=original_id)

    links = Customer.tags.through
    links.objects.filter(customer_id=survivor.pk, tag_id__in=snapshot["tags"]["added"]).delete()
    links.objects.bulk_create(
        [
            links(customer_id=int(owner), tag_id=tag_id)
            for owner, tag_ids in snapshot["tags"]["merged"].items()
            for tag_id in tag_ids
        ],
        ignore_conflicts=True,
    )

    now = timezone.now()
    for pk in record.merged_ids:
        state = from_state(Customer, snapshot["customers"][str(pk)])
        state.pop("id")
        Customer.objects.filter(pk=pk).update(**{**state, "updated_at": now})
    restore_survivor(survivor, snapshot)
    for customer_id in [survivor.pk, *record.merged_ids]:
        recompute_stats(customer_id)
        update_search_text(Customer.objects.get(pk=customer_id))

    record.undone_at, record.undone_by = now, actor
    record.save(update_fields=["undone_at", "undone_by"])
    undone = Activity.Kind.MERGE_UNDONE
    log_activity(survivor, undone, actor, record_id=record.pk, merged_ids=record.merged_ids)
    for pk in record.merged_ids:
        log_activity(customers[pk], undone, actor, record_id=record.pk, survivor_id=survivor.pk)
    merge_undone.send(sender=MergeRecord, record=record)
    return record


def restore_survivor(survivor, snapshot):
    """Give back the survivor's own values, except where someone changed them since the merge."""
    restored = []
    for field, (before, after) in snapshot[UNDO_SURVIVOR_FIELDS].items():
        if json_value(getattr(survivor, field)) == after:
            setattr(survivor, field, Customer._meta.get_field(field).to_python(before))
            restored.append(field)
    survivor.save(update_fields=[*restored, "updated_at"])


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


# Import and export -----------------------------------------------------------------------

logger = logging.getLogger(__name__)
PREVIEW_ROWS = 100
PREVIEW_ERRORS = 1000
# What one cell or message of the preview and the rejected rows may hold: longer than any
# column but the items, and short enough that a file quoting one long cell on every row
# (an XLSX shared string) cannot blow up the report.
REPORT_CELL_CHARS = 2000
PREVIEW_CELL_CHARS = 200
UNEXPECTED_JOB_ERROR = "An unexpected error stopped the job. Retry it; if it fails again, contact support."


class NullCollector:
    def start(self, step, headers):
        pass

    def row(self, outcome, values):
        pass

    def progress(self, step, rows):
        pass


def import_rows(*, business, actor, kind, open_table, valid_only=False, dry_run=False, collector=None):
    """Import a table of customers or orders through the set-based engine (customers.imports).

    Every row is checked before the first one is written, so a file with a wrong row imports
    nothing unless `valid_only`. `open_table()` gives a context manager of a fresh Table for
    each pass. Without `valid_only` the import is all or nothing in fact: its writes run in
    one transaction, so a failure at any row (the database refusing a value the check let
    through, a crash) leaves nothing behind. With `valid_only` the writes commit chunk by
    chunk, so as not to lock every customer of the file until its end: a crash part-way
    leaves the chunks already written, and running the file again completes it without
    writing anything twice. Returns the counts of the last pass and whether it wrote."""
    collector = collector or NullCollector()

    def run(step, dry_run):
        with open_table() as table:
            collector.start(step, table.headers)
            return imports.run(
                business=business, kind=kind, table=table, actor=actor, dry_run=dry_run,
                change_order=change_imported_order,
                on_row=collector.row, on_chunk=lambda counts: collector.progress(step, counts.rows),
            )

    if dry_run:
        return run(ImportJob.Step.CHECK, dry_run=True), False
    if valid_only:
        return run(ImportJob.Step.IMPORT, dry_run=False), True
    counts = run(ImportJob.Step.CHECK, dry_run=True)
    if counts.errors:
        return counts, False
    with transaction.atomic():
        return run(ImportJob.Step.IMPORT, dry_run=False), True


def check_import_file(file, *, kind, encoding):
    """Rows of an uploaded file (counted up to the limit of a file imported at once); a file
    that cannot be imported at all is a ValidationError."""
    try:
        with imports.open_table(file, encoding=encoding) as table:
            imports.map_headers(table.headers, kind)
        return imports.count_rows(file, encoding=encoding, stop_after=settings.IMPORT_SYNC_MAX_ROWS)
    except imports.ImportFileError as error:
        raise ValidationError({"file": str(error)}) from None


def start_import(*, business, actor, kind, upload, encoding="auto", valid_only=False):
    """Keep the uploaded file and check it (the dry run): at once when it is small, else in
    the background. Returns the ImportJob, whose page shows the outcome."""
    rows = check_import_file(upload, kind=kind, encoding=encoding)
    job = ImportJob(
        business=business, actor=actor, kind=kind, original_name=Path(upload.name).name[:255],
        encoding=encoding, valid_only=valid_only,
    )
    if rows <= settings.IMPORT_SYNC_MAX_ROWS:
        job.total_rows = rows
    extension = ".xlsx" if upload.name.lower().endswith(".xlsx") else ".csv"
    # The stored name is ours: the user's file name is only shown.
    job.file.save(f"{uuid.uuid4().hex}{extension}", upload, save=False)
    job.save()
    run_or_queue_import(job)
    return job


def run_or_queue_import(job):
    if job.total_rows is not None and job.total_rows <= settings.IMPORT_SYNC_MAX_ROWS:
        run_import_job(job.pk)
    else:
        transaction.on_commit(lambda: async_task("customers.tasks.run_import_job", job.pk, group="imports"))


def restart_import(job):
    """An import's retry: its upload must still be there; it runs once the retry commits."""
    check_upload_kept(job)
    transaction.on_commit(lambda: run_or_queue_import(job))


def queue_export(job):
    transaction.on_commit(lambda: async_task("customers.tasks.run_export_job", job.pk, group="exports"))


def confirm_import(*, job, actor, valid_rows_only=False):
    """Import a checked file (the user confirmed the dry run). With `valid_rows_only` the
    rows the check found wrong are skipped, from the file already uploaded."""
    check_upload_kept(job)
    confirmable = ImportJob.objects.filter(pk=job.pk, step=ImportJob.Step.CHECK, status=ImportJob.Status.DONE)
    queued = {
        "step": ImportJob.Step.IMPORT,
        "status": ImportJob.Status.QUEUED,
        "rows_done": 0,
        "heartbeat_at": timezone.now(),
        "finished_at": None,
    }
    if valid_rows_only:
        queued["valid_only"] = True
    else:
        confirmable = confirmable.filter(Q(error_count=0) | Q(valid_only=True))
    confirmed = confirmable.update(**queued)
    if not confirmed:
        raise ValidationError("This file is not ready to be imported.")
    job.refresh_from_db()
    run_or_queue_import(job)
    return job


def check_upload_kept(job):
    if not job.file:
        raise ValidationError(
            f"The uploaded file was deleted: uploads are kept {settings.IMPORT_FILE_DAYS} days. "
            "Upload it again."
        )


@contextmanager
def job_table(job):
    with job.file.open("rb") as file, imports.open_table(file, encoding=job.encoding) as table:
        yield table


class ImportJobCollector:
    """Keeps a job's progress, its preview (first rows and every error) and the CSV of its
    rejected rows (with an `error` column) as the import runs."""

    def __init__(self, job):
        self.job = job
        self.passes = 2 if job.step == ImportJob.Step.IMPORT and not job.valid_only else 1
        self.pass_number = -1
        self.report = None
        # Rows written inside a transaction opened by the import itself (all or nothing) go
        # with it when a cancel stops it; rows of chunks that committed stay.
        self.atomic_depth = len(connection.atomic_blocks)
        self.writes_roll_back = False
        # An all-or-nothing import holds one transaction to its end. Its progress and heartbeat
        # go through a connection of their own on PostgreSQL, so the job page and the stale-job
        # sweeper see them and the job's row is never locked by the import. SQLite has one
        # writer at a time (a second connection would wait for the import): there they go in
        # the import's transaction and show when it commits. Inside a caller's transaction
        # (an import run at once by a request) the job's row may be locked by that
        # transaction already, so they go in it as well.
        self.progress_apart = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.progress_connection = None

    def start(self, step, headers):
        self.pass_number += 1
        self.preview, self.errors = [], 0
        self.ignored = imports.map_headers(headers, self.job.kind)[1]
        self.report = tempfile.TemporaryFile()
        self.report_text = io.TextIOWrapper(self.report, encoding="utf-8-sig", newline="")
        self.report_writer = csv.writer(self.report_text)
        self.report_writer.writerow([*(imports.cell_text(header) for header in headers), "error"])
        self.unlisted = 0

    def row(self, outcome, values):
        is_error = outcome.status == imports.Outcome.ERROR
        if len(self.preview) < PREVIEW_ROWS or (is_error and self.errors < PREVIEW_ERRORS):
            self.preview.append(
                {
                    "row": outcome.number,
                    "status": outcome.status,
                    "key": shortened(outcome.key, PREVIEW_CELL_CHARS),
                    "message": shortened(outcome.message, REPORT_CELL_CHARS),
                }
            )
        if is_error:
            self.errors += 1
            # At most the size of a file one may upload, so that it can be fixed and uploaded again.
            if self.report.tell() > settings.IMPORT_MAX_FILE_BYTES:
                self.unlisted += 1
                return
            cells = [neutralize(shortened(imports.cell_text(value), REPORT_CELL_CHARS)) for value in values]
            error = neutralize(f"Row {outcome.number}: {shortened(outcome.message, REPORT_CELL_CHARS)}")
            self.report_writer.writerow([*cells, error])
            self.report_text.flush()

    def progress(self, step, rows):
        total = self.job.total_rows or rows
        done = (self.pass_number * total + rows) // self.passes
        self.writes_roll_back = len(connection.atomic_blocks) > self.atomic_depth
        apart = None
        if self.progress_apart and connection.in_atomic_block:
            if self.progress_connection is None:
                self.progress_connection = connections.create_connection(DEFAULT_DB_ALIAS)
            apart = self.progress_connection
        report_progress(self.job, min(done, total), connection=apart)

    def close(self):
        if self.progress_connection is not None:
            self.progress_connection.close()

    def save(self, job):
        job.preview, job.ignored_columns = self.preview, self.ignored
        if self.errors:
            if self.unlisted:
                self.report_writer.writerow([f"… and {self.unlisted:,} more rows with errors, unlisted."])
            self.report_text.flush()
            self.report.seek(0)
            job.error_report.save(f"{uuid.uuid4().hex}-rejected.csv", File(self.report), save=False)
        else:
            job.error_report = ""
        self.report_text.close()


def shortened(text, length):
    return text if len(text) <= length else text[: length - 1] + "…"


def run_import_job(job_id):
    """Check or import the job's file, as its step says. Safe to call twice."""
    if not claim_job(job_id):
        return None
    job = ImportJob.objects.select_related("business", "actor").get(pk=job_id)
    with timezone.override(job.business.timezone):
        try:
            with job.file.open("rb") as file:
                job.total_rows = imports.count_rows(file, encoding=job.encoding)
            ImportJob.objects.filter(pk=job.pk).update(total_rows=job.total_rows)
            collector = ImportJobCollector(job)
            try:
                counts, written = import_rows(
                    business=job.business, actor=job.actor, kind=job.kind, open_table=lambda: job_table(job),
                    valid_only=job.valid_only, dry_run=job.step == ImportJob.Step.CHECK, collector=collector,
                )
            finally:
                collector.close()
        except imports.ImportFileError as error:
            return finish_job(job, failure=str(error))
        except JobCancelled:
            return finish_cancelled(job, import_cancelled_outcome(job, collector))
        except Exception:
            logger.exception("Import job %s failed", job_id)
            return finish_job(job, failure=UNEXPECTED_JOB_ERROR)
    collector.save(job)
    job.created_count, job.updated_count = counts.created, counts.updated
    job.unchanged_count, job.error_count = counts.unchanged, counts.errors
    job.rows_done = job.total_rows
    failure = ""
    if job.step == ImportJob.Step.IMPORT and not written:
        failure = (
            f"{counts.errors} row(s) have errors, so nothing was imported. "
            "Fix them and upload the file again."
        )
    return finish_job(job, failure=failure)


def import_cancelled_outcome(job, collector):
    checking = job.step == ImportJob.Step.CHECK or collector.pass_number < collector.passes - 1
    if checking or collector.writes_roll_back:
        return "Nothing was imported."
    return "The rows before it stopped were imported; retry to import the rest."


def request_export(*, business, actor, kind, file_format, params):
    """Export the customer list (as filtered by `params`) or its orders to a file, in the background."""
    job = ExportJob.objects.create(
        business=business, actor=actor, kind=kind, format=file_format, filters=dict(params.lists())
    )
    queue_export(job)
    return job


def run_export_job(job_id):
    """Write the export file, reporting progress every chunk. Safe to call twice."""
    if not claim_job(job_id):
        return None
    job = ExportJob.objects.select_related("business").get(pk=job_id)
    params = QueryDict(mutable=True)
    for name, values in job.filters.items():
        params.setlist(name, values)
    with timezone.override(job.business.timezone):
        try:
            queryset = exports.queryset_for(job.business, job.kind, params)
            job.total_rows = queryset.count()
            ExportJob.objects.filter(pk=job.pk).update(total_rows=job.total_rows)
            rows = exports.export_rows(job.kind, queryset)
            write = exports.write_xlsx if job.format == ExportJob.Format.XLSX else exports.write_csv
            with tempfile.TemporaryFile() as output:
                write(reporting_progress(rows, job), output)
                output.seek(0)
                job.file.save(f"{uuid.uuid4().hex}.{job.format}", File(output), save=False)
        except JobCancelled:
            return finish_cancelled(job, "No file was written.")
        except Exception:
            logger.exception("Export job %s failed", job_id)
            return finish_job(job, failure=UNEXPECTED_JOB_ERROR)
    job.rows_done = job.total_rows
    return finish_job(job)


def reporting_progress(rows, job):
    for number, row in enumerate(rows):
        if number and number % exports.EXPORT_CHUNK == 0:
            report_progress(job, number)
        yield row


def fail_stale_jobs():
    """Fail the jobs whose worker died (no heartbeat), and delete the files that hold
    personal data once their retention is over: exports after EXPORT_FILE_DAYS, uploads
    (with their rejected rows and the rows previewed) IMPORT_FILE_DAYS after they were
    checked or imported. Runs on its schedule only."""
    jobs.fail_stale_jobs()
    now = timezone.now()
    expired = ExportJob.objects.filter(finished_at__lt=now - timedelta(days=settings.EXPORT_FILE_DAYS))
    for job in expired.exclude(file=""):
        job.file.delete(save=False)
        ExportJob.objects.filter(pk=job.pk).update(file="")
    uploads = ImportJob.objects.filter(finished_at__lt=now - timedelta(days=settings.IMPORT_FILE_DAYS))
    for job in uploads.exclude(file=""):
        job.file.delete(save=False)
        job.error_report.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="", error_report="", preview=[])
