"""The import itself: `run` reads a table chunk by chunk, and a chunk of customers or of
orders parses its rows, looks up everything they refer to with one query per kind of
thing and writes them with a few set-based statements (customers.bulk.writers). The
results are those of the row-by-row services: `get_or_create_customer`, `record_order`,
`tag_customer`, `dropoff_for`, `update_search_text`, `change_order_status` and
`change_order_address`."""

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from customers import normalize, queries, summaries
from customers.bulk.columns import CONTACT_COLUMNS, map_headers
from customers.bulk.rows import Counts, Outcome, Row, parse_items
from customers.bulk.tables import cell_text
from customers.bulk.writers import (
    INSERT_BATCH,
    bulk_insert,
    insert_returning,
    recompute_stats,
    upsert_customers,
)
from customers.models import (
    ADDRESS_LIMIT_EXCEEDED,
    Activity,
    Customer,
    CustomerAccount,
    Dropoff,
    Order,
    OrderItem,
    Payment,
    Tag,
    searchable,
)
from customers.normalize import address_key, plain
from customers.signals import customers_imported, orders_imported, tags_changed

CHUNK_SIZE = 2000


def run(*, business, kind, table, change_order, actor=None, dry_run, on_row=None, on_chunk=None):
    """Import the table's rows chunk by chunk; each chunk's writes commit together. A dry
    run writes nothing. `on_row(outcome, values)` sees every non-blank row, `on_chunk(counts)`
    each chunk's end. `change_order(order=, status=, address=, actor=)` changes a recorded
    order's status and address as the services do: it is passed in because the services sit
    above this engine and call it."""
    positions, _ = map_headers(table.headers, kind)
    importer = (CustomerChunk if kind == "customers" else OrderChunk)(business, actor, dry_run, change_order)
    counts = Counts()
    while chunk := list(itertools.islice(table.rows, CHUNK_SIZE)):
        counts.rows += len(chunk)
        rows = []
        for number, values in chunk:
            if any(value not in (None, "") for value in values):
                cells = {column: values[p] if p < len(values) else None for column, p in positions.items()}
                row = Row(number, cells)
                for message in table.row_errors.pop(number, ()):
                    row.error("", message)
                rows.append((row, values))
        outcomes = importer.process([row for row, _ in rows])
        for (_, values), outcome in zip(rows, outcomes, strict=True):
            counts.add(outcome)
            if on_row:
                on_row(outcome, values)
        if on_chunk:
            on_chunk(counts)
    return counts


# Customers -------------------------------------------------------------------------------------


@dataclass
class Target:
    """A customer a chunk writes to: what it was, and what the chunk's rows make of it."""

    phone: str
    customer_id: int | None = None
    old: dict = field(default_factory=dict)
    contact: dict = field(default_factory=dict)
    changes: dict = field(default_factory=dict)  # field -> [old, new], for the timeline
    tags: set = field(default_factory=set)
    new_tags: list = field(default_factory=list)
    dropoff_ids: dict = field(default_factory=dict)  # address key -> id of a shipping dropoff
    dropoff_count: int = 0
    has_default: bool = False
    new_dropoffs: list = field(default_factory=list)
    blacklisted: bool = False
    rows: int = 0  # rows of the chunk folded into it so far
    created: bool = False  # inserted by this chunk
    opt_ins: dict = field(default_factory=dict)  # opt-in column -> bool, a later row winning

    @property
    def is_new(self):
        return self.customer_id is None


class ChunkBase:
    # The field an address's errors are reported on: the street cell of an import's row.
    ADDRESS_FIELD = "street"

    def __init__(self, business, actor, dry_run, change_order):
        self.business = business
        self.actor = actor
        self.dry_run = dry_run
        self.change_order = change_order
        self.now = timezone.now()

    def targets_for(self, phones, with_tags=False):
        """Targets of the live customers with these phones (a merged customer's phone
        leads to the customer it was merged into), keyed by the phone asked for."""
        fields = ["id", "phone", "preferred_name", "is_blacklisted", *CONTACT_COLUMNS]
        customers = Customer.objects.live().filter(business=self.business, phone__in=phones)
        found = {row["phone"]: row for row in customers.values(*fields)}
        merged_phones = (
            Customer.objects.filter(business=self.business, phone__in=set(phones) - set(found))
            .filter(merged_into__isnull=False, anonymized_at__isnull=True)
            .values_list("phone", flat=True)
        )
        for phone in set(merged_phones):
            survivor = queries.find_customer_by_phone(self.business, phone)
            if survivor is not None:
                found[phone] = Customer.objects.filter(pk=survivor.pk).values(*fields).get()
        targets = {}
        by_id = {}
        for phone, row in found.items():
            target = by_id.get(row["id"])
            if target is None:
                target = by_id[row["id"]] = Target(
                    phone=row["phone"],
                    customer_id=row["id"],
                    old={name: row[name] for name in CONTACT_COLUMNS},
                    blacklisted=row["is_blacklisted"],
                )
                target.contact = dict(target.old, preferred_name=row["preferred_name"])
            targets[phone] = target
        if by_id:
            dropoffs = Dropoff.objects.filter(customer_id__in=by_id).values_list(
                "id", "customer_id", "kind", "address_key", "is_default"
            )
            for dropoff_id, customer_id, kind, key, is_default in dropoffs:
                target = by_id[customer_id]
                target.dropoff_count += 1
                if kind == Dropoff.Kind.SHIPPING:
                    target.dropoff_ids[key] = dropoff_id
                    target.has_default |= is_default
            if with_tags:
                links = Customer.tags.through.objects.filter(customer_id__in=by_id)
                for customer_id, name in links.values_list("customer_id", "tag__name"):
                    by_id[customer_id].tags.add(name)
        return targets

    def plan_dropoff(self, row, target, address):
        """The dropoff this row needs (None when the target has that address already), as
        `dropoff_for` would make it; an 11th address is an error of the row."""
        key = address_key(address)
        if key in target.dropoff_ids:
            return None
        if target.dropoff_count >= Dropoff.MAX_PER_CUSTOMER:
            row.error(self.ADDRESS_FIELD, ADDRESS_LIMIT_EXCEEDED)
            return None
        return {
            **{name: value for name, value in address.items() if value not in (None, "")},
            "address_key": key,
            "country": (address.get("country") or "").upper(),
        }

    def add_dropoff(self, target, dropoff):
        dropoff["is_default"] = not target.has_default
        target.has_default = True
        target.dropoff_ids[dropoff["address_key"]] = None
        target.dropoff_count += 1
        target.new_dropoffs.append(dropoff)

    def save_targets(self, targets, activities, log_changes=True):
        """Upsert the new and changed customers (their ids land on the targets) and their timeline."""
        changed = [target for target in targets if (target.is_new and target.rows) or target.changes]
        emails = defaultdict(list)
        accounts = CustomerAccount.objects.filter(
            customer_id__in=[t.customer_id for t in changed if t.customer_id]
        )
        for customer_id, email in accounts.exclude(email="").values_list("customer_id", "email"):
            emails[customer_id].append(email)
        rows = []
        for target in changed:
            contact = (
                target.contact if target.is_new else {name: new for name, (_, new) in target.changes.items()}
            )
            merged = target.contact
            search_text = searchable(
                merged.get("first_name"),
                merged.get("last_name"),
                merged.get("preferred_name"),
                merged.get("email"),
                *emails.get(target.customer_id, []),
            )
            rows.append((target, contact, search_text))
        ids = upsert_customers(
            self.business, [(t.phone, contact, text) for t, contact, text in rows], self.now
        )
        for target, _, _ in rows:
            target.created = target.is_new
            target.customer_id = ids[target.phone]
            if target.created:
                activities.append(self.activity(target, Activity.Kind.CREATED, phone=target.phone))
            elif log_changes:
                changes = {name: [plain(old), plain(new)] for name, (old, new) in target.changes.items()}
                activities.append(self.activity(target, Activity.Kind.CONTACT_UPDATED, changes=changes))

    def save_dropoffs(self, targets):
        """Insert the targets' new dropoffs; their ids land in the targets' `dropoff_ids`."""
        owners, dropoffs = [], []
        for target in targets:
            for values in target.new_dropoffs:
                owners.append(target)
                dropoffs.append(
                    {
                        "business_id": self.business.pk,
                        "customer_id": target.customer_id,
                        "created_at": self.now,
                        **values,
                    }
                )
        ids = bulk_insert(Dropoff, dropoffs, returning_ids=True)
        for target, dropoff, dropoff_id in zip(owners, dropoffs, ids, strict=True):
            target.dropoff_ids[dropoff["address_key"]] = dropoff_id

    def consent_payload(self, targets):
        """What the import tells listeners about the customers' consents: those it created
        (their sign-up) and the opt-in cells of their rows."""
        return {
            "business": self.business,
            "actor": self.actor,
            "created_customer_ids": sorted(target.customer_id for target in targets if target.created),
            "opt_ins": {target.customer_id: target.opt_ins for target in targets if target.opt_ins},
        }

    def activity(self, target, kind, **data):
        return {
            "business_id": self.business.pk,
            "customer_id": target.customer_id,
            "kind": kind,
            "actor_id": self.actor.pk if self.actor else None,
            "data": data,
            "created_at": self.now,
        }


class CustomerChunk(ChunkBase):
    def process(self, rows):
        country = self.business.default_country
        parsed = []
        for row in rows:
            record_id = row.record_id()
            phone = row.phone(country)
            contact = {
                "first_name": row.text("first_name", 100),
                "last_name": row.text("last_name", 100),
                "email": row.email(),
                "date_of_birth": row.date_of_birth(),
                "language": row.text("language", 10),
            }
            tags = [" ".join(name.split()) for name in cell_text(row.cells.get("tags")).split(";")]
            tags = list(dict.fromkeys(name for name in tags if name))
            for name in tags:
                if len(name) > 50:
                    row.error("tags", f"The tag “{name[:20]}…” is longer than 50 characters.")
            parsed.append((row, record_id, phone, contact, tags, row.address(), row.opt_ins()))

        targets = self.targets_for([phone for row, _, phone, *_ in parsed if not row.errors], with_tags=True)
        ids = {record_id for row, record_id, *_ in parsed if record_id and not row.errors}
        known_ids = set(
            Customer.objects.live().filter(business=self.business, pk__in=ids).values_list("pk", flat=True)
        )
        outcomes = []
        for row, record_id, phone, contact, tags, address, opt_ins in parsed:
            target = None if row.errors else targets.setdefault(phone, Target(phone=phone))
            if target and record_id and (record_id not in known_ids or record_id != target.customer_id):
                row.error("id", f"No customer with id {record_id} and this phone in this business.")
            dropoff = self.plan_dropoff(row, target, address) if target and address else None
            if row.errors:
                key = phone or normalize.printable(cell_text(row.cells.get("phone")))
                outcomes.append(Outcome(row.number, Outcome.ERROR, key=key, errors=row.errors))
                continue
            target.opt_ins.update(opt_ins)
            outcomes.append(Outcome(row.number, self.apply(target, contact, tags, dropoff), key=phone))
        if not self.dry_run:
            self.write(list({id(target): target for target in targets.values()}.values()))
        return outcomes

    def apply(self, target, contact, tags, dropoff):
        """Fold one row into its target, as saving the rows one after another would."""
        first_row = target.is_new and not target.rows
        target.rows += 1
        changed = False
        for name, value in contact.items():
            if value not in (None, "") and value != target.contact.get(name):
                if not target.is_new:
                    target.changes[name] = [target.old.get(name), value]
                target.contact[name] = value
                changed = True
        # One tag per name in any case: "vip" is the customer's "VIP".
        known = {name.casefold() for name in target.tags}
        new_tags = []
        for name in tags:
            if name.casefold() not in known:
                known.add(name.casefold())
                new_tags.append(name)
        target.tags.update(new_tags)
        target.new_tags += new_tags
        if dropoff:
            self.add_dropoff(target, dropoff)
        if first_row:
            return Outcome.NEW
        return Outcome.UPDATED if changed or new_tags or dropoff else Outcome.UNCHANGED

    @transaction.atomic
    def write(self, targets):
        activities = []
        self.save_targets(targets, activities)
        self.save_tags(targets, activities)
        self.save_dropoffs(targets)
        bulk_insert(Activity, activities)
        customers_imported.send(
            sender=Customer,
            **self.consent_payload(targets),
            updated_fields={
                target.customer_id: sorted(target.changes)
                for target in targets
                if not target.created and target.changes
            },
        )

    def save_tags(self, targets, activities):
        names = {name for target in targets for name in target.new_tags}
        if not names:
            return
        # A name the business has in another case ("vip" for "VIP") is not inserted: its tag is.
        Tag.objects.bulk_create(
            [Tag(business=self.business, name=name) for name in names], ignore_conflicts=True
        )
        in_any_case = Q()
        for name in names:
            in_any_case |= Q(name__iexact=name)
        found = dict(Tag.objects.filter(in_any_case, business=self.business).values_list("name", "pk"))
        by_folded = {name.casefold(): pk for name, pk in found.items()}
        tag_ids = {}
        for name in names:
            tag_ids[name] = found.get(name) or by_folded.get(name.casefold())
            if tag_ids[name] is None:  # the same name for the database, not for casefold()
                tag_ids[name] = Tag.objects.get(business=self.business, name__iexact=name).pk
        links = []
        for target in targets:
            for name in target.new_tags:
                links.append(Customer.tags.through(customer_id=target.customer_id, tag_id=tag_ids[name]))
                activities.append(self.activity(target, Activity.Kind.TAGGED, tag=name))
        Customer.tags.through.objects.bulk_create(links, batch_size=INSERT_BATCH, ignore_conflicts=True)
        tagged = sorted({target.customer_id for target in targets if target.new_tags})
        tags_changed.send(sender=Tag, business_id=self.business.pk, customer_ids=tagged)


# Orders ----------------------------------------------------------------------------------------

# Recorded facts an import may not rewrite; status and address it may change, as the services do.
FIXED_ORDER_FIELDS = ["amount", "currency", "placed_at", "source"]


@dataclass
class OrderRow:
    row: Row
    record_id: int | None
    external_id: str
    phone: str | None
    contact: dict
    values: dict  # amount, currency, placed_at, status, source as given (None or "" when blank)
    address: dict | None
    items: list
    opt_ins: dict
    payment: dict | None  # transaction_id, method, status


class OrderChunk(ChunkBase):
    def parse(self, row):
        currency = row.text("currency", 3).upper()
        if currency and not re.fullmatch(r"[A-Z]{3}", currency):
            row.error("currency", f"“{currency}” is not a three-letter currency code.")
        status = row.text("status", 20).lower()
        if status and status not in Order.Status.values:
            row.error("status", f"“{status}” is not one of: {', '.join(Order.Status.values)}.")
        return OrderRow(
            row=row,
            record_id=row.record_id(),
            external_id=row.text("external_id", 100, required=True),
            phone=row.phone(self.business.default_country),
            contact={
                "first_name": row.text("first_name", 100),
                "last_name": row.text("last_name", 100),
                "email": row.email(),
            },
            values={
                "amount": row.money("amount"),
                "currency": currency,
                "placed_at": row.placed_at(),
                "status": status,
                "source": row.text("source", 50),
            },
            address=row.address(),
            items=parse_items(row),
            opt_ins=row.opt_ins(),
            payment=row.payment(),
        )

    def process(self, rows):
        parsed = [self.parse(row) for row in rows]
        valid = [order for order in parsed if not order.row.errors]
        recorded = {
            order["external_id"]: order
            for order in Order.objects.filter(
                business=self.business, external_id__in=[order.external_id for order in valid]
            ).values("id", "external_id", "customer_id", "dropoff_id", *FIXED_ORDER_FIELDS, "status")
        }
        targets = self.targets_for([order.phone for order in valid])
        # Transaction id -> the order it was recorded for.
        self.paid_orders = dict(
            Payment.objects.filter(
                business=self.business,
                transaction_id__in=[o.payment["transaction_id"] for o in valid if o.payment],
            ).values_list("transaction_id", "order_id")
        )
        first_row_of, first_payment_row_of = {}, {}
        new_orders, changes, outcomes = [], [], []
        for order in parsed:
            row = order.row
            if not row.errors:
                if order.external_id in first_row_of:
                    row.error(
                        "external_id",
                        f"{order.external_id} is also on row {first_row_of[order.external_id]}.",
                    )
                first_row_of.setdefault(order.external_id, row.number)
            if not row.errors and order.payment:
                transaction_id = order.payment["transaction_id"]
                if transaction_id in first_payment_row_of:
                    row.error(
                        "transaction_id",
                        f"{transaction_id} is also on row {first_payment_row_of[transaction_id]}.",
                    )
                first_payment_row_of.setdefault(transaction_id, row.number)
            if row.errors:
                outcomes.append(Outcome(row.number, Outcome.ERROR, key=order.external_id, errors=row.errors))
                continue
            existing = recorded.get(order.external_id)
            if order.record_id and (existing is None or existing["id"] != order.record_id):
                row.error("id", f"No order with id {order.record_id} and this external id in this business.")
            target = targets.setdefault(order.phone, Target(phone=order.phone))
            if existing is None:
                status = self.plan_new(order, target, new_orders)
            else:
                status = self.plan_change(order, target, existing, changes)
            if row.errors:
                outcomes.append(Outcome(row.number, Outcome.ERROR, key=order.external_id, errors=row.errors))
            else:
                outcomes.append(Outcome(row.number, status, key=order.external_id))
        if not self.dry_run:
            targets = list({id(target): target for target in targets.values()}.values())
            self.write(targets, new_orders, changes)
        return outcomes

    def plan_new(self, order, target, new_orders):
        values = order.values
        if values["amount"] is None and not order.row.errors:
            order.row.error("amount", "A new order needs an amount.")
        if values["status"] == Order.Status.BLOCKED:
            order.row.error("status", "Orders are blocked by the blacklist, not by a file.")
        dropoff = self.plan_dropoff(order.row, target, order.address) if order.address else None
        self.check_new_payments(order)
        if order.row.errors:
            return Outcome.ERROR
        if dropoff:
            self.add_dropoff(target, dropoff)
        # As record_order: a new customer takes the row's contact data, a known one only fills blanks.
        for name, value in order.contact.items():
            if value and not target.contact.get(name):
                target.contact[name] = value
                if not target.is_new:
                    target.changes[name] = [target.old.get(name), value]
        target.rows += 1
        new_orders.append((order, target))
        return Outcome.NEW

    def plan_change(self, order, target, existing, changes):
        row, values = order.row, order.values
        if target.customer_id != existing["customer_id"]:
            row.error("phone", f"Order {order.external_id} belongs to another customer.")
            return Outcome.ERROR
        for name in FIXED_ORDER_FIELDS:
            given, recorded = values[name], existing[name]
            if name == "placed_at" and given:
                given, recorded = given.replace(microsecond=0), recorded.replace(microsecond=0)
            if given not in (None, "") and given != recorded:
                shown = (
                    timezone.localtime(recorded).strftime("%Y-%m-%d %H:%M:%S")
                    if name == "placed_at"
                    else recorded
                )
                row.error(name, f"Differs from the recorded order ({shown}); an import does not change it.")
        status = values["status"] if values["status"] not in ("", existing["status"]) else None
        if status == Order.Status.BLOCKED:
            row.error("status", "Orders are blocked by the blacklist, not by a file.")
        address = None
        if order.address:
            key = address_key(order.address)
            if target.dropoff_ids.get(key, -1) != existing["dropoff_id"]:
                dropoff = self.plan_dropoff(row, target, order.address)
                if dropoff:
                    self.add_dropoff(target, dropoff)
                address = order.address
        payment = None
        if order.payment and self.check_payment(order, order_id=existing["id"], amount=existing["amount"]):
            payment = {**order.payment, "order": existing, "customer_id": existing["customer_id"]}
        if row.errors:
            return Outcome.ERROR
        if not status and not address and not payment:
            return Outcome.UNCHANGED
        changes.append((existing["id"], status, address, payment))
        return Outcome.UPDATED

    def check_new_payments(self, order):
        if order.payment:
            self.check_payment(order, order_id=None, amount=order.values["amount"])

    def check_payment(self, order, *, order_id, amount):
        """Whether the row's payment is still to record: its transaction id of this order
        is recorded already (False), of another order an error."""
        paid_order = self.paid_orders.get(order.payment["transaction_id"])
        if paid_order is not None and paid_order != order_id:
            order.row.error("transaction_id", "This transaction id is recorded already, for another order.")
        elif amount is not None and amount <= 0:
            order.row.error("transaction_id", "An order of 0 has no payment to record.")
        return paid_order is None

    @transaction.atomic
    def write(self, targets, new_orders, changes):
        activities = []
        # As record_order's fill_blank_contact: filling blanks leaves no timeline entry.
        self.save_targets(targets, activities, log_changes=False)
        self.save_dropoffs(targets)
        # What the new orders add to the summaries, in one upsert per table; the changes of
        # recorded orders below keep them exact as by hand.
        planned = [(target.customer_id, *self.status_and_time(order, target)) for order, target in new_orders]
        with summaries.tracked_new_orders(self.business, planned) as written_orders:
            self.write_new_orders(new_orders, activities, written_orders)
        payments = [payment for _, _, _, payment in changes if payment]
        self.write_payments(
            [
                self.payment_row(payment, payment["order"]["id"], payment["order"], payment["customer_id"])
                for payment in payments
            ],
            activities=True,
        )
        for order_id, status, address, _ in changes:
            if status or address:
                order = Order.objects.select_related("customer").get(pk=order_id)
                self.change_order(order=order, status=status, address=address, actor=self.actor)

    def payment_row(self, payment, order_id, order_values, customer_id):
        return {
            "business_id": self.business.pk,
            "order_id": order_id,
            "transaction_id": payment["transaction_id"],
            "amount": order_values["amount"],
            "currency": order_values["currency"] or self.business.currency.upper(),
            "method": payment["method"],
            "status": payment["status"],
            "processed_at": order_values["placed_at"] or self.now,
            "created_at": self.now,
            # Not a Payment column: whose timeline the payment of a recorded order goes on.
            "customer_id": customer_id,
        }

    def write_payments(self, rows, *, activities):
        """Insert the payments; one recorded a moment ago by the API is not written twice.
        A payment added to a recorded order goes on the timeline, as through the API."""
        customer_of = {row["transaction_id"]: row.pop("customer_id") for row in rows}
        inserted = insert_returning(
            Payment,
            rows,
            conflict="ON CONFLICT (business_id, transaction_id) DO NOTHING",
            returning="transaction_id, id",
        )
        if not activities:
            return
        by_id = {row["transaction_id"]: row for row in rows}
        bulk_insert(
            Activity,
            [
                {
                    "business_id": self.business.pk,
                    "customer_id": customer_of[transaction_id],
                    "kind": Activity.Kind.PAYMENT_RECORDED,
                    "actor_id": self.actor.pk if self.actor else None,
                    "data": {
                        "order_id": by_id[transaction_id]["order_id"],
                        "payment_id": payment_id,
                        "transaction_id": transaction_id,
                        "amount": str(by_id[transaction_id]["amount"]),
                        "currency": by_id[transaction_id]["currency"],
                        "method": by_id[transaction_id]["method"],
                        "status": by_id[transaction_id]["status"],
                    },
                    "created_at": self.now,
                }
                for transaction_id, payment_id in inserted
            ],
        )

    def status_and_time(self, order, target):
        """The status and placed_at a new order is written with."""
        values = order.values
        status = Order.Status.BLOCKED if target.blacklisted else values["status"] or Order.Status.COMPLETED
        return status, values["placed_at"] or self.now

    def write_new_orders(self, new_orders, activities, written_orders):
        """Write the new orders; those written (not recorded a moment ago by the API) go in
        `written_orders` as (customer id, status, placed_at, amount), in their order."""
        orders, creators = [], set()
        for order, target in new_orders:
            values = order.values
            status, placed_at = self.status_and_time(order, target)
            dropoff_id = target.dropoff_ids[address_key(order.address)] if order.address else None
            orders.append(
                {
                    "business_id": self.business.pk,
                    "external_id": order.external_id,
                    "customer_id": target.customer_id,
                    "dropoff_id": dropoff_id,
                    "amount": values["amount"],
                    "currency": values["currency"] or self.business.currency.upper(),
                    "status": status,
                    "placed_at": placed_at,
                    "completed_at": placed_at if status == Order.Status.COMPLETED else None,
                    "source": values["source"],
                    # As record_order: only the order that brought the customer created it.
                    "created_customer": target.created and id(target) not in creators,
                    "created_at": self.now,
                }
            )
            creators.add(id(target))
        inserted = dict(
            insert_returning(
                Order,
                orders,
                conflict="ON CONFLICT (business_id, external_id) DO NOTHING",
                returning="external_id, id",
            )
        )
        items, payments, written = [], [], {}
        for (order, target), values in zip(new_orders, orders, strict=True):
            order_id = inserted.get(order.external_id)
            if order_id is None:
                continue  # recorded a moment ago by the API: nothing of this row is written twice
            written[target.customer_id] = target
            written_orders.append(
                (target.customer_id, values["status"], values["placed_at"], values["amount"])
            )
            payments += self.new_payment_rows(order, order_id, values, target.customer_id)
            # As at checkout: the opt-ins that came with an order, recorded once with it.
            target.opt_ins.update(order.opt_ins)
            items += [{"business_id": self.business.pk, "order_id": order_id, **item} for item in order.items]
            activities.append(
                self.activity(
                    target,
                    Activity.Kind.ORDER_RECORDED,
                    order_id=order_id,
                    external_id=order.external_id,
                    amount=str(values["amount"]),
                    currency=values["currency"],
                    status=values["status"],
                )
            )
        bulk_insert(OrderItem, items)
        # As in the order API: a new order's payments are part of its recording, not entries of their own.
        self.write_payments(payments, activities=False)
        recompute_stats(set(written))
        bulk_insert(Activity, activities)
        self.recorded(new_orders, orders, inserted, written)

    def new_payment_rows(self, order, order_id, values, customer_id):
        """The payment rows of a new order (`values`: its row); the row's payment is of its amount."""
        return [self.payment_row(order.payment, order_id, values, customer_id)] if order.payment else []

    def recorded(self, new_orders, orders, inserted, written):
        """Tell listeners about the chunk's new orders: `orders` are their rows, in the order of
        `new_orders`; `inserted` {external id: order id} those written (not recorded a moment
        ago by the API); `written` {customer id: target} their customers."""
        if inserted:
            orders_imported.send(
                sender=Order,
                order_ids=sorted(inserted.values()),
                customer_ids=sorted(written),
                **self.consent_payload(list(written.values())),
            )
