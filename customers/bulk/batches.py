"""The order API's batches (POST /api/v1/orders/batch) through the import engine: the orders,
checked by the API's form, are planned as an import chunk's rows and written with the same
set-based statements (chunks.OrderChunk). What differs is what record_order does and an
import does not: an external id recorded already (or earlier in the batch) is that order,
not a change of it; an order carries several payments, each of its own amount; and the
opt-ins it carries are consents given at checkout.

Every order the database could refuse is refused here first, as record_order refuses it (an
invalid phone, an 11th address, a transaction id of another order), so that the writes take
only good orders and one bad order never fails the others."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError

from customers.bulk.chunks import OrderChunk, OrderRow, Target
from customers.bulk.rows import Outcome, Row
from customers.models import TRANSACTION_ID_TAKEN, Customer, Order, Payment
from customers.normalize import normalize_phone
from customers.queries import lock_phones
from customers.signals import orders_recorded


@dataclass
class BatchOrder(OrderRow):
    payments: list = field(default_factory=list)  # PaymentForm's cleaned data, each of its own amount
    outcome: "BatchOutcome" = None


@dataclass
class BatchOutcome:
    status: int  # 201 recorded by this batch, 200 recorded before (or earlier in it), 400 refused
    order: Order | None = None  # of a 201 its fields as written, of a 200 the order recorded first
    errors: dict = field(default_factory=dict)  # {field: [messages]} of a 400
    filled: list = field(default_factory=list)  # of a 201, the customer's blank contact fields it filled

    @property
    def customer_created(self):
        return self.order.created_customer

    @property
    def blocked(self):
        return self.order.status == Order.Status.BLOCKED


class OrderBatch(OrderChunk):
    ADDRESS_FIELD = "address"

    def __init__(self, business, actor):
        super().__init__(business, actor, dry_run=False, change_order=None)

    def parse(self, number, order):
        """An order of OrderForm.order() as an import's row."""
        row = Row(number, {})
        try:
            phone = normalize_phone(order["phone"], self.business.default_country)
        except ValidationError as error:
            phone = None
            for name, messages in error.message_dict.items():
                for message in messages:
                    row.error(name, message)
        return BatchOrder(
            row=row,
            record_id=None,
            external_id=order["external_id"],
            phone=phone,
            contact={name: order.get(name) or "" for name in ["first_name", "last_name", "email"]},
            values={
                # As record_order takes it: a caller of the service may give a string.
                "amount": Decimal(order["amount"]),
                "currency": (order.get("currency") or "").upper(),
                "placed_at": order.get("placed_at"),
                "status": order.get("status") or Order.Status.COMPLETED,
                "source": order.get("source") or "",
            },
            address=order.get("address"),
            items=order.get("items") or [],
            opt_ins=order.get("opt_ins") or {},
            payment=None,
            payments=order.get("payments") or [],
        )

    def lock(self, phones):
        """Wait for the batches and orders in flight for these phones, so that what is read
        next (their customers, addresses, recorded orders) includes what they write: each
        phone's advisory lock (lock_phones), and the known customers' rows, as record_order
        locks its customer, in pk order so that two batches cannot deadlock."""
        lock_phones(self.business, phones)
        list(
            Customer.objects.select_for_update()
            .filter(business=self.business, phone__in=phones)
            .order_by("pk")
            .values_list("pk")
        )

    def process(self, orders):
        """Record the orders (OrderForm.order() each); one BatchOutcome per order, in order."""
        parsed = [self.parse(number, order) for number, order in enumerate(orders)]
        valid = [order for order in parsed if not order.row.errors]
        phones = sorted({order.phone for order in valid})
        self.lock(phones)
        recorded = {
            order.external_id: order
            for order in Order.objects.filter(
                business=self.business, external_id__in=[order.external_id for order in valid]
            ).only("id", "external_id", "customer_id", "created_customer", "status")
        }
        targets = self.targets_for(phones)
        # Transaction id -> its order (None: an order earlier in this batch).
        self.paid_orders = dict(
            Payment.objects.filter(
                business=self.business,
                transaction_id__in=[
                    payment["transaction_id"] for order in valid for payment in order.payments
                ],
            ).values_list("transaction_id", "order_id")
        )
        first_of, repeats, new_orders = {}, [], []
        for order in parsed:
            if not order.row.errors:
                if order.external_id in recorded:
                    order.outcome = BatchOutcome(200, recorded[order.external_id])
                    continue
                if order.external_id in first_of:
                    # As if sent after the first: its answer is the first one's.
                    order.outcome = BatchOutcome(200)
                    repeats.append((order.outcome, first_of[order.external_id]))
                    continue
                target = targets.setdefault(order.phone, Target(phone=order.phone))
                before = dict(target.contact)
                if self.plan_new(order, target, new_orders) == Outcome.NEW:
                    filled = [
                        name for name, value in target.contact.items() if value and not before.get(name)
                    ]
                    order.outcome = BatchOutcome(201, filled=sorted(filled))
                    first_of[order.external_id] = order.outcome
                    continue
            errors = {}
            for name, message in order.row.errors:
                errors.setdefault(name, []).append(message)
            order.outcome = BatchOutcome(400, errors=errors)
        if new_orders:
            self.write(list({id(target): target for target in targets.values()}.values()), new_orders, [])
        lost = [order.external_id for order, _ in new_orders if order.outcome.order is None]
        if lost:
            # Recorded a moment ago by another request: answered as sent after it.
            for found in Order.objects.filter(business=self.business, external_id__in=lost):
                first_of[found.external_id].status, first_of[found.external_id].order = 200, found
        for repeat, first in repeats:
            repeat.order = first.order
        return [order.outcome for order in parsed]

    def check_new_payments(self, order):
        """As record_order: a transaction id recorded for another order refuses the order."""
        transaction_ids = [payment["transaction_id"] for payment in order.payments]
        for transaction_id in transaction_ids:
            if transaction_id in self.paid_orders:
                order.row.error("payments", TRANSACTION_ID_TAKEN.format(transaction_id))
        if not order.row.errors:
            self.paid_orders.update(dict.fromkeys(transaction_ids))

    def new_payment_rows(self, order, order_id, values, customer_id):
        """As record_order's unsaved_payment."""
        return [
            {
                "business_id": self.business.pk,
                "order_id": order_id,
                "transaction_id": payment["transaction_id"],
                "amount": payment["amount"],
                "currency": (payment.get("currency") or values["currency"]).upper(),
                "method": payment["method"],
                "status": payment.get("status") or Payment.Status.SUCCEEDED,
                "provider": payment.get("provider") or "",
                "processed_at": payment.get("processed_at"),
                "created_at": self.now,
                "customer_id": customer_id,
            }
            for payment in order.payments
        ]

    def recorded(self, new_orders, orders, inserted, written):
        checkouts = []
        for (order, target), values in zip(new_orders, orders, strict=True):
            order_id = inserted.get(order.external_id)
            if order_id is None:
                continue
            order.outcome.order = Order(pk=order_id, **values)
            if order.opt_ins:
                checkouts.append(
                    {
                        "customer_id": target.customer_id,
                        "external_id": order.external_id,
                        "source": values["source"],
                        "opt_ins": order.opt_ins,
                    }
                )
        if inserted:
            orders_recorded.send(
                sender=Order,
                business=self.business,
                actor=self.actor,
                order_ids=sorted(inserted.values()),
                customer_ids=sorted(written),
                created_customer_ids=sorted(
                    target.customer_id for target in written.values() if target.created
                ),
                checkouts=checkouts,
            )
