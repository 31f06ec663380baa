from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from customers import summaries
from customers.bulk.writers import recompute_stats
from customers.merge_registry import DROPOFFS, MERGE_FIELDS, MERGE_HANDLING, MOVE, model_and_column
from customers.models import Activity, Customer, Dropoff, MergeRecord, Order
from customers.normalize import plain
from customers.queries import default_field_choices, undo_blockers
from customers.services.activity import log_activity
from customers.services.duplicates import forget_duplicate_candidates
from customers.services.identity import update_search_text
from customers.services.webhooks import emit_event
from customers.signals import customers_merged, merge_undone

CONFLICT = "conflict"
UNDO_SURVIVOR_FIELDS = "survivor_changes"


def json_value(value):
    if isinstance(value, Decimal):
        return str(value)
    return plain(value)


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
    # The merged customers' first orders move to the survivor: new customers and cohorts change.
    with summaries.tracked(survivor.business, [survivor.pk, *merged_ids]):
        moved = {DROPOFFS: merge_dropoffs(survivor, merged_ids, snapshot)}
        for label, handling in MERGE_HANDLING.items():
            if handling == MOVE:
                moved[label] = move_rows(label, merged_ids, survivor.pk, involved=customers)
        merge_tags(survivor, merged_ids, snapshot)
        forget_duplicate_candidates(merged_ids)

        now = timezone.now()
        Customer.objects.filter(pk__in=merged_ids).update(
            deleted_at=now, merged_into=survivor, updated_at=now
        )
        snapshot[UNDO_SURVIVOR_FIELDS] = update_survivor(survivor, merged, customers, choices)
        recompute_stats([survivor.pk, *merged_ids])
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
    emit_event(
        business_id=survivor.business_id,
        type="customers.customer.merged",
        data={"merge_id": record.pk, "survivor_id": survivor.pk, "merged_ids": merged_ids},
        customer_id=survivor.pk,
    )
    return record


def move_rows(label, merged_ids, survivor_id, involved):
    """Re-point the rows of one foreign key from the merged customers to the survivor;
    returns {merged customer id: [row ids]}."""
    model, column = model_and_column(label)
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

    with summaries.tracked(survivor.business, [survivor.pk, *record.merged_ids]):
        for label, by_owner in record.moved.items():
            model, column = model_and_column(label)
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
        recompute_stats([survivor.pk, *record.merged_ids])
    for customer_id in [survivor.pk, *record.merged_ids]:
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
