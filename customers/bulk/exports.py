"""Exports of the customer list and its orders as CSV or XLSX: the rows, built set-based
(one streamed query, and per batch of rows one query for each kind of related rows), and
the writers. Formulas are kept out of them by `normalize.neutralize`. Reads only.

The columns and their values are those of the resources (customers.resources), which the
admin's export uses."""

import csv
import datetime as dt
import io
import itertools
import json
from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import DateTimeField, F, Func, Q, Value
from django.utils import timezone

from customers.bulk import columns
from customers.filters import CustomerFilter
from customers.models import Customer, Dropoff, Order, OrderItem, Payment, Tag
from customers.normalize import neutralize

EXPORT_CHUNK = 2000
ADDRESS_PARTS = ["street", "city", "state", "postal_code", "country"]
CUSTOMER_COLUMNS = [
    "id",
    # The import columns first, so that an export imports back as it is.
    *columns.CUSTOMER_COLUMNS,
    "status",
    "is_blacklisted",
    "tier",
    "points_balance",
    "order_count",
    "total_spent",
    "first_order_at",
    "last_order_at",
    "created_at",
]
ORDER_COLUMNS = [
    "id",
    "external_id",
    "phone",
    "first_name",
    "last_name",
    "email",
    "amount",
    "currency",
    "placed_at",
    "status",
    "source",
    *ADDRESS_PARTS,
    "items",
    "completed_at",
    "created_at",
    # Export only (an import records a payment from payment_method, payment_status and
    # transaction_id): every payment of the order as JSON, and what they took and gave back.
    "payments",
    "paid",
    "refunded",
]
COLUMNS = {"customers": CUSTOMER_COLUMNS, "orders": ORDER_COLUMNS}
NO_ADDRESS = ("",) * len(ADDRESS_PARTS)


def customers_for(business, params):
    """The customers the list shows for these filters (query parameters), in its order."""
    # Not queries.customer_list, which loads only the columns the list shows.
    customers = Customer.objects.filter(business=business).live().order_by("-created_at", "-id")
    customer_filter = CustomerFilter(params, queryset=customers, business=business)
    # The list ignores a wrong filter (and shows its error); an export must not quietly export more.
    if not customer_filter.is_valid():
        raise ValidationError(customer_filter.errors)
    return customer_filter.qs


def orders_for(business, params):
    """The orders of the customers the list shows for these filters, latest first."""
    customers = customers_for(business, params).order_by()
    return Order.objects.filter(business=business, customer__in=customers).order_by("-placed_at", "-id")


def queryset_for(business, kind, params):
    return customers_for(business, params) if kind == "customers" else orders_for(business, params)


def export_rows(kind, queryset):
    """The header, then one list of values per row, as the resource's export gives them."""
    yield COLUMNS[kind]
    yield from (customer_rows if kind == "customers" else order_rows)(queryset)


def streamed(queryset, fields):
    """Batches of the queryset's rows (tuples of `fields`, the first being "id"), the
    queryset ordered by ("-<a field>", "-id").

    PostgreSQL reads them through one server-side cursor, outside a transaction, so that a
    job's progress writes between two batches show at once: it keeps the cursor's result on
    its side (spilling to disk) and this process holds one batch at a time. SQLite has no
    such cursor: one left open between batches keeps its connection's own writes (the
    progress) uncommitted, and every other writer locked out, until the last row is read;
    so there each batch is a query of its own, continuing after the last row of the one
    before."""
    if connection.vendor != "sqlite":
        rows = queryset.values_list(*fields).iterator(chunk_size=EXPORT_CHUNK)
        while batch := list(itertools.islice(rows, EXPORT_CHUNK)):
            yield batch
        return
    field = queryset.query.order_by[0].lstrip("-")
    position = fields.index(field)
    batch = list(queryset.values_list(*fields)[:EXPORT_CHUNK])
    while batch:
        yield batch
        value, pk = batch[-1][position], batch[-1][0]
        after = Q(**{f"{field}__lt": value}) | Q(**{field: value, "pk__lt": pk})
        batch = list(queryset.filter(after).values_list(*fields)[:EXPORT_CHUNK])


def among(column, ids):
    """`column IN ids` as SQL and its parameters. On PostgreSQL one array, which is parsed
    and planned several times faster than a list of thousands of values (and the ORM's
    compiling of such a list would cost more than the query)."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [ids]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", ids


def price_text(price):
    """An item's price as the ORM gives it, with its two decimals (SQLite's driver gives a float)."""
    return f"{Decimal(str(price)):.2f}"


def fetch(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def text(value):
    return "" if value is None else neutralize(value)


def local(moment, zone):
    """A time as the resource exports it: in the current time zone, without its offset."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        return moment  # made local by the database
    return moment.astimezone(zone).replace(tzinfo=None)


def local_times(queryset, fields, zone):
    """The queryset and its fields to read, with the times among them read as local times
    without an offset, turned so by PostgreSQL: the driver reads those a few times faster
    than times with a zone, which go through Django's loader in Python. (SQLite's are turned
    by `local`.)"""
    if connection.vendor != "postgresql":
        return queryset, fields
    model_fields = queryset.model._meta
    times = [
        name
        for name in fields
        if "__" not in name and model_fields.get_field(name).get_internal_type() == "DateTimeField"
    ]
    local_fields = {
        f"{name}_local": Func(Value(zone.key), F(name), function="timezone", output_field=DateTimeField())
        for name in times
    }
    return queryset.annotate(**local_fields), [f"{name}_local" if name in times else name for name in fields]


def customer_rows(customers):
    zone = timezone.get_current_timezone()
    fields = [
        "id", "phone", "first_name", "last_name", "email", "date_of_birth", "language", "status",
        "is_blacklisted", "tier", "points_balance", "order_count", "total_spent", "first_order_at",
        "last_order_at", "created_at",
    ]  # fmt: skip
    for batch in streamed(*local_times(customers, fields, zone)):
        ids = [row[0] for row in batch]
        tags = defaultdict(list)
        where, params = among("l.customer_id", ids)
        for customer_id, name in fetch(
            f"SELECT l.customer_id, t.name FROM {Customer.tags.through._meta.db_table} l "
            f"JOIN {Tag._meta.db_table} t ON t.id = l.tag_id WHERE {where} ORDER BY t.name",
            params,
        ):
            tags[customer_id].append(name)
        addresses = {}
        # The default shipping address, else the first one, as the resource's prefetch.
        where, params = among("customer_id", ids)
        for customer_id, *address in fetch(
            f"SELECT customer_id, {', '.join(ADDRESS_PARTS)} FROM {Dropoff._meta.db_table} "
            f"WHERE {where} AND kind = %s ORDER BY customer_id, is_default DESC, created_at, id",
            [*params, Dropoff.Kind.SHIPPING],
        ):
            addresses.setdefault(customer_id, address)
        for (
            pk, phone, first_name, last_name, email, date_of_birth, language, status, blacklisted, tier,
            points, order_count, total_spent, first_order_at, last_order_at, created_at,
        ) in batch:  # fmt: skip
            # The text columns of customers and dropoffs are never NULL.
            yield [
                pk, neutralize(phone), neutralize(first_name), neutralize(last_name), neutralize(email),
                date_of_birth, neutralize(language), neutralize(";".join(tags.get(pk, ()))),
                *map(neutralize, addresses.get(pk, NO_ADDRESS)),
                neutralize(status), blacklisted, neutralize(tier), points, order_count, total_spent,
                local(first_order_at, zone), local(last_order_at, zone), local(created_at, zone),
            ]  # fmt: skip


def order_rows(orders):
    zone = timezone.get_current_timezone()
    fields = [
        "id", "external_id", "customer__phone", "customer__first_name", "customer__last_name",
        "customer__email", "amount", "currency", "placed_at", "status", "source",
        *(f"dropoff__{part}" for part in ADDRESS_PARTS), "completed_at", "created_at",
    ]  # fmt: skip
    for batch in streamed(*local_times(orders, fields, zone)):
        items = defaultdict(list)
        where, params = among("order_id", [row[0] for row in batch])
        for order_id, sku, name, category, quantity, price in fetch(
            f"SELECT order_id, sku, name, category, quantity, price FROM {OrderItem._meta.db_table} "
            f"WHERE {where} ORDER BY order_id, id",
            params,
        ):
            item = {"sku": sku, "name": name, "category": category, "quantity": quantity}
            items[order_id].append({**item, "price": price_text(price)})
        payments = defaultdict(list)
        for payment in Payment.objects.filter(order_id__in=[row[0] for row in batch]).order_by(
            "order_id", "id"
        ):
            payments[payment.order_id].append(payment)
        for (
            pk, external_id, phone, first_name, last_name, email, amount, currency, placed_at, status, source,
            street, city, state, postal_code, country, completed_at, created_at,
        ) in batch:  # fmt: skip
            order_items = items.get(pk)
            yield [
                pk, text(external_id), text(phone), text(first_name), text(last_name), text(email), amount,
                text(currency), local(placed_at, zone), text(status), text(source), text(street), text(city),
                text(state), text(postal_code), text(country),
                neutralize(json.dumps(order_items, ensure_ascii=False)) if order_items else "",
                local(completed_at, zone), local(created_at, zone), *payment_cells(payments.get(pk, ())),
            ]  # fmt: skip


def payment_cells(payments):
    """The payments, paid and refunded cells of an order's payments (the resource's too)."""
    if not payments:
        return ["", price_text(0), price_text(0)]
    described = [
        {
            "transaction_id": payment.transaction_id,
            "amount": price_text(payment.amount),
            "currency": payment.currency,
            "method": payment.method,
            "status": payment.status,
            "provider": payment.provider,
            "processed_at": payment.processed_at.isoformat() if payment.processed_at else None,
            "refunded": price_text(payment.refunded_amount),
        }
        for payment in payments
    ]
    paid = sum(p.amount for p in payments if p.status in Payment.CAPTURED_STATUSES)
    refunded = sum(p.refunded_amount for p in payments)
    return [neutralize(json.dumps(described, ensure_ascii=False)), price_text(paid), price_text(refunded)]


class Echo:
    def write(self, value):
        return value


def csv_lines(rows):
    """UTF-8 CSV with a BOM (so that Excel reads the accents), line by line, for streaming.
    Every cell is quoted: a spreadsheet in a semicolon locale then keeps a cell such as
    "x;'=cmd" whole instead of splitting it into cells of its own."""
    writer = csv.writer(Echo(), quoting=csv.QUOTE_ALL)
    yield "\ufeff"
    datetime = dt.datetime
    for row in rows:
        # Inline rather than a function a cell: a million rows have twenty million cells.
        yield writer.writerow([v.isoformat(" ", "seconds") if type(v) is datetime else v for v in row])


def in_time_zone(name, lines):
    """Streams `lines` with the business's time zone active: a streamed response is read
    after the view and its middleware have returned."""
    with timezone.override(name):
        yield from lines


def write_csv(rows, stream):
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    text.writelines(csv_lines(rows))
    text.flush()
    text.detach()


def write_xlsx(rows, stream):
    """XLSX in write-only mode: rows go to a temporary file as they come, so memory stays bounded."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in rows:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("\ufffd", v) if isinstance(v, str) else v for v in row])
    workbook.save(stream)


def export_filename(kind, file_format):
    return f"{kind}-{timezone.localdate():%Y-%m-%d}.{file_format}"
