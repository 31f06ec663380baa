from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers import summaries
from customers.bulk.batches import OrderBatch
from customers.bulk.writers import recompute_stats
from customers.models import TRANSACTION_ID_TAKEN, Activity, Customer, Order, OrderItem, Payment
from customers.services.activity import log_activity, unsaved_activity
from customers.services.addresses import dropoff_for
from customers.services.identity import find_or_insert_customer, lock, update_search_text
from customers.services.webhooks import Event, customer_updated, emit_event, emit_events
from customers.signals import order_recorded, order_status_changed


@dataclass
class RecordedOrder:
    order: Order
    created: bool
    # In the order of the body's `payments` (ids ascending, for an order recorded before).
    payments: list = field(default_factory=list)

    @property
    def customer_created(self):
        return self.order.created_customer

    @property
    def blocked(self):
        return self.order.status == Order.Status.BLOCKED


def record_order(*, business, external_id, **order):
    """Record an order once per external id: find or create the customer, reuse or add
    the dropoff, store the items, keep the customer's stats exact and tell listeners (with
    the `opt_ins` the order carried, {name: bool} of signals.OPT_IN_FIELDS).

    An external id already recorded (a storefront retrying, now or concurrently) fails at
    the order's insert, which rolls back everything the attempt wrote, and the order
    recorded first is returned. Asking first would cost every new order a query.

    `payments` are dicts of unsaved_payment's fields (below); a transaction id
    recorded already for another order refuses the order (a ValidationError on `payments`)."""
    try:
        return _record_new_order(business=business, external_id=external_id, **order)
    except IntegrityError:
        existing = Order.objects.filter(business=business, external_id=external_id).first()
        if existing is None:
            taken = taken_transaction_ids(business, [p["transaction_id"] for p in order.get("payments", ())])
            if taken:
                raise ValidationError({"payments": taken}) from None
            raise
        return RecordedOrder(existing, created=False, payments=list(existing.payments.order_by("pk")))


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
    payments=(),
    actor=None,
    opt_ins=None,
    **contact,
):
    customer, customer_created = find_or_insert_customer(business, phone, True, contact)
    filled = [] if customer_created else fill_blank_contact(customer, contact)
    if customer.is_blacklisted:
        status = Order.Status.BLOCKED
    placed_at = placed_at or timezone.now()
    # A backdated order may move the customer's cohort: the summaries then read their orders.
    summary_before = (
        summaries.contributions(business, [customer.pk])
        if summaries.is_backdated(customer, status, placed_at)
        else None
    )
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
    payments = Payment.objects.bulk_create(unsaved_payment(order, **payment) for payment in payments)
    if status in Order.COUNTED_STATUSES:
        add_to_stats(customer, order)
    if summary_before is None:
        summaries.add_new_order(business, customer, order)
    else:
        summaries.settle(business, [customer.pk], summary_before)
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
    order_recorded.send(sender=Order, order=order, customer=customer, opt_ins=opt_ins or {})
    events = [Event("orders.order.recorded", {"orders": [order_json(order)]}, customer.pk)]
    if customer_created:
        events.insert(0, Event("customers.customer.created", {"customer_ids": [customer.pk]}, customer.pk))
    elif filled:
        events.insert(0, customer_updated(customer.pk, filled))
    emit_events(business_id=business.pk, events=events)
    return RecordedOrder(order, created=True, payments=payments)


@transaction.atomic
def record_orders(*, business, orders, actor=None):
    """Record a batch of orders (each as record_order's keyword arguments) set-based, through
    the import engine, with record_order's rules, writes, signals' effects and events: one
    BatchOutcome per order, in order (201 recorded now, 200 recorded before or earlier in the
    batch, 400 refused as record_order refuses it; a refused order leaves nothing of itself
    and takes nothing from the others)."""
    outcomes = OrderBatch(business, actor).process(orders)
    events = []
    for outcome in outcomes:
        if outcome.status != 201:
            continue
        order = outcome.order
        if order.created_customer:
            events.append(
                Event("customers.customer.created", {"customer_ids": [order.customer_id]}, order.customer_id)
            )
        elif outcome.filled:
            events.append(customer_updated(order.customer_id, outcome.filled))
        events.append(Event("orders.order.recorded", {"orders": [order_json(order)]}, order.customer_id))
    if events:
        emit_events(business_id=business.pk, events=events)
    return outcomes


def unsaved_payment(
    order, *, transaction_id, amount, method, currency="", status="", provider="", processed_at=None
):
    """A payment of `order` as a storefront or an import reported it, for a bulk insert."""
    return Payment(
        business_id=order.business_id,
        order=order,
        transaction_id=transaction_id,
        amount=Decimal(amount),
        currency=(currency or order.currency).upper(),
        method=method,
        status=status or Payment.Status.SUCCEEDED,
        provider=provider,
        processed_at=processed_at,
    )


def taken_transaction_ids(business, transaction_ids):
    """The errors for transaction ids already recorded, once an insert failed on them."""
    taken = Payment.objects.filter(business=business, transaction_id__in=transaction_ids)
    return [
        TRANSACTION_ID_TAKEN.format(transaction_id)
        for transaction_id in taken.values_list("transaction_id", flat=True)
    ]


def order_json(order):
    """An order in the `orders` list of the order events: ids and facts, no personal data."""
    return {
        "id": order.pk,
        "external_id": order.external_id,
        "customer_id": order.customer_id,
        "status": order.status,
        "amount": str(order.amount),
        "currency": order.currency,
        "placed_at": order.placed_at.isoformat(),
    }


def fill_blank_contact(customer, contact):
    """Fill the customer's blank contact fields from the order; returns the names filled."""
    blanks = {key: value for key, value in contact.items() if value and not getattr(customer, key)}
    if blanks:
        for key, value in blanks.items():
            setattr(customer, key, value)
        customer.save(update_fields=[*blanks, "updated_at"])
        update_search_text(customer)
    return sorted(blanks)


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
    with summaries.tracked(order.business, [customer.pk]):
        order.save(update_fields=["status", "completed_at"])
        recompute_stats([customer.pk])
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
    emit_event(
        business_id=order.business_id,
        type="orders.order.status_changed",
        data={"orders": [{**order_json(order), "old_status": old_status}]},
        customer_id=customer.pk,
    )
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
    with summaries.tracked(order.business, [customer.pk]):
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
