"""Figures of imports and exports, run by `manage.py bench` with the customers figures (see
customers/benchmarks/harness.py for the harness).

Each import figure is one run over 100,000 rows in a scratch business, against PostgreSQL
COPY of the same rows into the same table; the export figure is one export of every
customer of the bench business (--customers) against COPY of the same columns out of it.
Each prints the peak memory of the process during our run (Linux: the high-water mark is
reset before the run).
"""

import csv
import json
import secrets
import tempfile
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.apps import apps
from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from customers import demo, services
from customers.benchmarks import harness
from customers.bulk import columns, exports, tables
from customers.bulk.writers import CopyWriter
from customers.models import Activity, Customer, Dropoff, Order, OrderItem, Tag, searchable

# Rows per import and export figure: 100,000, or fewer when the bench business is smaller.
ROWS = 100_000
SCRATCH = "bench-import"
SCRATCH_COPY = "bench-import-copy"
TAG_CHOICES = [[], [], ["VIP"], ["Newsletter"], ["VIP", "Late payer"]]


def figures(context):
    rows = min(ROWS, context.customers)
    business = fresh_business(SCRATCH)
    copy_business = fresh_business(SCRATCH_COPY)
    with tempfile.TemporaryDirectory() as directory:
        people = generate_people(context.rng, rows)
        customers_file = Path(directory, "customers.csv")
        orders_file = Path(directory, "orders.csv")
        write_customers(people, customers_file)
        write_orders(people, orders_file)
        yield import_figure("import.customers", business, copy_business, "customers", customers_file, people)
        yield import_figure("import.orders", business, copy_business, "orders", orders_file, people)
        yield export_figure(context.business, Path(directory, "export.csv"))
    clear(business)
    clear(copy_business)


class PeakMemory:
    """The process's peak resident memory during a run, in MB above its size at the start."""

    def __init__(self):
        self.text = "peak memory n/a"

    @contextmanager
    def measuring(self):
        status = Path("/proc/self/status")
        if not status.exists():
            yield
            return
        Path("/proc/self/clear_refs").write_text("5")
        before = self.read(status, "VmRSS")
        yield
        peak = self.read(status, "VmHWM")
        self.text = f"peak RSS {peak / 1024:.0f} MB (+{(peak - before) / 1024:.0f} MB)"

    @staticmethod
    def read(status, name):
        line = next(line for line in status.read_text().splitlines() if line.startswith(name))
        return int(line.split()[1])


def fresh_business(slug):
    business = demo.get_or_create_business(slug)
    clear(business)
    return business


def clear(business):
    """Remove what the figures wrote into a scratch business (in SQL: 100,000 rows a table),
    first the other apps' rows about its customers and orders (points earned, memberships...)."""
    with connection.cursor() as cursor:
        for table, column, parent in other_apps_references((Customer, Order)):
            cursor.execute(
                f"DELETE FROM {table} WHERE {column} IN (SELECT id FROM {parent} WHERE business_id = %s)",
                [business.pk],
            )
        for model in (Activity, OrderItem, Order, Dropoff):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE business_id = %s", [business.pk])
        cursor.execute(
            f"DELETE FROM {Customer.tags.through._meta.db_table} WHERE tag_id IN "
            f"(SELECT id FROM {Tag._meta.db_table} WHERE business_id = %s)",
            [business.pk],
        )
        # What other apps keep about these customers (the tiers' rolling figures, say) goes first.
        for relation in Customer._meta.related_objects:
            model = relation.related_model
            if relation.many_to_many or model in (Customer, Activity, Order, Dropoff):
                continue
            cursor.execute(
                f"DELETE FROM {model._meta.db_table} WHERE {relation.field.column} IN "
                f"(SELECT id FROM {Customer._meta.db_table} WHERE business_id = %s)",
                [business.pk],
            )
        for model in (Tag, Customer):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE business_id = %s", [business.pk])


def other_apps_references(models):
    """(table, column, referenced table) of every foreign key from another app to these models."""
    return [
        (model._meta.db_table, field.column, field.related_model._meta.db_table)
        for model in apps.get_models()
        if model._meta.app_label != "customers"
        for field in model._meta.local_fields
        if field.is_relation and field.related_model in models
    ]


def generate_people(rng, rows):
    # Far above the indices seed_demo uses, and new in every bench run.
    start = demo.PHONE_SPACE // 2 + secrets.randbelow(demo.PHONE_SPACE // 4)
    token = secrets.token_hex(3)
    now = timezone.now()
    people = []
    for index in range(rows):
        phone = demo.phone_for_index(start + index)
        first, last = rng.choice(demo.NAMES["en"][0]), rng.choice(demo.NAMES["en"][1])
        city, state, _, postal, *_ = rng.choice(demo.CITIES)
        sku, name, category, cents = rng.choice(demo.PRODUCTS)
        people.append(
            {
                "phone": phone,
                "national": f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}",
                "first_name": first,
                "last_name": last,
                "email": f"{demo.ascii_name(first)}.{demo.ascii_name(last)}{index}@example.com",
                "date_of_birth": f"{rng.randint(1950, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(10, 28)}",
                "language": "en",
                "tags": rng.choice(TAG_CHOICES),
                "street": f"{rng.randint(1, 999)} Main St",
                "city": city,
                "state": state,
                "postal_code": f"{postal}{rng.randint(10, 99)}",
                "external_id": f"bench-import-{token}-{index}",
                "amount": f"{cents / 100:.2f}",
                "placed_at": (now - timedelta(minutes=index)).strftime("%Y-%m-%d %H:%M:%S"),
                "item": {
                    "sku": sku,
                    "name": name,
                    "category": category,
                    "quantity": 1,
                    "price": f"{cents / 100:.2f}",
                },
            }
        )
    return people


def write_customers(people, path):
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(columns.CUSTOMER_COLUMNS)
        for p in people:
            writer.writerow(
                [
                    p["national"],
                    p["first_name"],
                    p["last_name"],
                    p["email"],
                    p["date_of_birth"],
                    p["language"],
                    ";".join(p["tags"]),
                    p["street"],
                    p["city"],
                    p["state"],
                    p["postal_code"],
                    "US",
                ]
            )


def write_orders(people, path):
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow([*columns.ORDER_COLUMNS, "state", "items"])
        for p in people:
            writer.writerow(
                [
                    p["external_id"],
                    p["phone"],
                    p["amount"],
                    "USD",
                    p["placed_at"],
                    "completed",
                    "web",
                    p["street"],
                    p["city"],
                    p["postal_code"],
                    "US",
                    p["state"],
                    json.dumps([p["item"]]),
                ]
            )


def copy_rows(kind, business, people):
    """The rows COPY writes: the same people, their phones already normalized."""
    now = timezone.now()
    if kind == "customers":
        return [
            {
                "business_id": business.pk,
                "phone": p["phone"],
                "first_name": p["first_name"],
                "last_name": p["last_name"],
                "email": p["email"],
                "date_of_birth": p["date_of_birth"],
                "language": p["language"],
                "created_at": now,
                "updated_at": now,
                "search_text": searchable(p["first_name"], p["last_name"], p["email"]),
            }
            for p in people
        ]
    customer_ids = dict(Customer.objects.filter(business=business).values_list("phone", "pk"))
    return [
        {
            "business_id": business.pk,
            "external_id": p["external_id"],
            "customer_id": customer_ids[p["phone"]],
            "amount": p["amount"],
            "currency": "USD",
            "status": "completed",
            "placed_at": p["placed_at"],
            "completed_at": p["placed_at"],
            "source": "web",
            "created_at": now,
        }
        for p in people
    ]


def import_figure(name, business, copy_business, kind, path, people):
    """Check, then import (what confirming an import does)."""
    memory = PeakMemory()
    model = Customer if kind == "customers" else Order

    @contextmanager
    def open_table():
        with path.open("rb") as file, tables.open_table(file) as table:
            yield table

    def ours(run):
        with memory.measuring(), timezone.override(business.timezone):
            counts, written = services.import_rows(
                business=business, actor=None, kind=kind, open_table=open_table
            )
        if not written or counts.created != len(people):
            raise AssertionError(f"{name}: {counts}")

    rows = copy_rows(kind, copy_business, people) if kind == "customers" else None

    def raw(run):
        CopyWriter().insert(model, rows if rows is not None else copy_rows(kind, copy_business, people))

    return harness.Figure(
        name, ours, raw, runs=1, warmup=0, unit="rows", per_run=len(people), note=lambda: memory.text
    )


def export_figure(business, path):
    """The business's customers exported as Customers › Export writes them, against COPY of
    the same columns (tags and default shipping address included) in the same order."""
    memory = PeakMemory()
    customers = exports.customers_for(business, QueryDict())
    rows = customers.count()
    tables = {
        "customer": Customer._meta.db_table,
        "links": Customer.tags.through._meta.db_table,
        "tag": Tag._meta.db_table,
        "dropoff": Dropoff._meta.db_table,
    }
    sql = f"""
        COPY (
            SELECT c.id, c.phone, c.first_name, c.last_name, c.email, c.date_of_birth, c.language,
                (SELECT string_agg(t.name, ';' ORDER BY t.name) FROM {tables["links"]} l
                 JOIN {tables["tag"]} t ON t.id = l.tag_id WHERE l.customer_id = c.id) AS tags,
                d.street, d.city, d.state, d.postal_code, d.country, c.status, c.is_blacklisted, c.tier,
                c.points_balance, c.order_count, c.total_spent, c.first_order_at, c.last_order_at,
                c.created_at
            FROM {tables["customer"]} c
            LEFT JOIN LATERAL (
                SELECT street, city, state, postal_code, country FROM {tables["dropoff"]}
                WHERE customer_id = c.id AND kind = '{Dropoff.Kind.SHIPPING}'
                ORDER BY is_default DESC, created_at, id LIMIT 1
            ) d ON true
            WHERE c.business_id = {int(business.pk)} AND c.deleted_at IS NULL
            ORDER BY c.created_at DESC, c.id DESC
        ) TO STDOUT WITH (FORMAT csv, HEADER)
    """

    def ours(run):
        with memory.measuring(), timezone.override(business.timezone), path.open("wb") as file:
            exports.write_csv(exports.export_rows("customers", customers), file)

    def raw(run):
        with connection.cursor() as cursor, path.open("wb") as file, cursor.cursor.copy(sql) as copy:
            for block in copy:
                file.write(block)

    return harness.Figure(
        "export.customers",
        ours,
        raw,
        runs=1,
        warmup=0,
        unit="rows",
        per_run=rows,
        note=lambda: memory.text,
    )
