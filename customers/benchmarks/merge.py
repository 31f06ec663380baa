"""Figures of duplicate detection and merging, run by `manage.py bench` with the customers
figures (see customers/benchmarks/harness.py for the harness)."""

import itertools
import json
import secrets
from datetime import timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from customers import demo, duplicates, queries, services
from customers.benchmarks import harness
from customers.bulk.writers import recompute_stats
from customers.models import Activity, Customer, Order

MERGE_ORDERS = 1000
MERGE_WARMUP = 1
DETECTION_RUNS = 1
DEEP_DUPLICATES_PAGE = 50


def figures(context):
    business = context.business
    api_key, secret = services.create_api_key(business=business, name="bench merge", actor=None)
    yield merge_figure(business, secret, runs=context.repeat)
    yield detection_figure(business)
    client = context.client_for(context.users["support"])
    for page in (1, DEEP_DUPLICATES_PAGE):
        yield duplicates_page_figure(client, business, page)
    services.revoke_api_key(api_key=api_key, actor=None)


# Merge ---------------------------------------------------------------------------------


def customer_with_orders(business, token, number, orders):
    """A customer with `orders` completed orders and their timeline, written in bulk."""
    # Drawn afresh in the upper half of the phone space, far from seeded customers and earlier runs.
    phone = demo.phone_for_index(demo.PHONE_SPACE // 2 + secrets.randbelow(demo.PHONE_SPACE // 2))
    customer = Customer.objects.create(business=business, phone=phone, first_name="Bench", last_name=token)
    placed = timezone.now() - timedelta(days=30)
    rows = Order.objects.bulk_create(
        Order(
            business=business,
            customer=customer,
            external_id=f"merge-{token}-{number}-{position}",
            amount=Decimal("12.50"),
            currency=business.currency,
            placed_at=placed + timedelta(minutes=position),
        )
        for position in range(orders)
    )
    Activity.objects.bulk_create(
        Activity(
            business=business, customer=customer, kind=Activity.Kind.ORDER_RECORDED, data={"order_id": o.pk}
        )
        for o in rows
    )
    recompute_stats([customer.pk])
    return customer


def merge_figure(business, secret, runs):
    """POST /api/v1/customers/merge of two customers with 1,000 orders each, against the
    same moves in hand-written SQL."""
    token = secrets.token_hex(3)
    numbers = itertools.count()
    pairs = {
        side: [
            (
                customer_with_orders(business, token, next(numbers), MERGE_ORDERS),
                customer_with_orders(business, token, next(numbers), MERGE_ORDERS),
            )
            for _ in range(runs + MERGE_WARMUP)
        ]
        for side in ("ours", "raw")
    }
    client = Client(HTTP_HOST=harness.allowed_host())
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    used = {"ours": iter(pairs["ours"]), "raw": iter(pairs["raw"])}

    def ours(run):
        survivor, merged = next(used["ours"])
        body = json.dumps({"survivor_id": survivor.pk, "merged_ids": [merged.pk], "reason": "bench"})
        response = client.post("/api/v1/customers/merge", body, "application/json", secure=True, **headers)
        if response.status_code != 200:
            raise AssertionError(f"POST /api/v1/customers/merge answered {response.status_code}")

    def raw(run):
        survivor, merged = next(used["raw"])
        raw_merge(survivor.pk, merged.pk)

    return harness.Figure("merge.two_1000_orders", ours, raw, runs=runs, warmup=MERGE_WARMUP)


RAW_MERGE_SQL = [
    "SELECT id FROM customers_customer WHERE id IN (%(survivor)s, %(merged)s) ORDER BY id FOR UPDATE",
    *(
        f"UPDATE {table} SET customer_id = %(survivor)s WHERE customer_id = %(merged)s"
        for table in (
            "customers_order",
            "customers_customeraccount",
            "customers_note",
            "customers_blacklistentry",
            "customers_activity",
            "customers_dropoff",
        )
    ),
    """INSERT INTO customers_customer_tags (customer_id, tag_id)
       SELECT %(survivor)s, tag_id FROM customers_customer_tags WHERE customer_id = %(merged)s
       ON CONFLICT DO NOTHING""",
    "DELETE FROM customers_customer_tags WHERE customer_id = %(merged)s",
    """UPDATE customers_customer SET deleted_at = now(), merged_into_id = %(survivor)s,
       order_count = 0, total_spent = 0 WHERE id = %(merged)s""",
    """UPDATE customers_customer c SET order_count = s.n, total_spent = s.total, first_order_at = s.first,
       last_order_at = s.last
       FROM (SELECT count(*) AS n, coalesce(sum(amount), 0) AS total, min(placed_at) AS first,
             max(placed_at) AS last FROM customers_order
             WHERE customer_id = %(survivor)s AND status = 'completed') s
       WHERE c.id = %(survivor)s""",
]


@transaction.atomic
def raw_merge(survivor_id, merged_id):
    with connection.cursor() as cursor:
        for sql in RAW_MERGE_SQL:
            cursor.execute(sql, {"survivor": survivor_id, "merged": merged_id})


# Detection -----------------------------------------------------------------------------


def detection_figure(business):
    """The whole scan of the bench business, against its candidate queries alone (no scoring,
    no writing)."""

    def ours(run):
        services.detect_duplicates(business=business)

    @transaction.atomic
    def raw(run):
        params = duplicates.query_params(business)
        with connection.cursor() as cursor:
            duplicates.tune_scan(cursor)
            for sql in duplicates.candidate_queries():
                cursor.execute(sql, params)
                cursor.fetchall()

    return harness.Figure("duplicates.detect", ours, raw, runs=DETECTION_RUNS, warmup=0)


# The candidates the page lists, with both customers, in hand-written SQL.
DUPLICATES_PAGE_SQL = """
    SELECT candidate.id, candidate.score, candidate.reasons, a.id, a.phone, a.first_name, a.last_name,
           a.email, b.id, b.phone, b.first_name, b.last_name, b.email
    FROM customers_duplicatecandidate candidate
    JOIN customers_customer a ON a.id = candidate.customer_a_id
    JOIN customers_customer b ON b.id = candidate.customer_b_id
    WHERE candidate.business_id = %(business)s AND a.deleted_at IS NULL AND b.deleted_at IS NULL
    ORDER BY candidate.score DESC, candidate.id
    LIMIT %(limit)s OFFSET %(offset)s
"""


def duplicates_page_figure(client, business, page):
    """A page of "Possible duplicates", after the scan above filled it."""
    params = {
        "business": business.pk,
        "limit": queries.DUPLICATES_PER_PAGE + 1,
        "offset": (page - 1) * queries.DUPLICATES_PER_PAGE,
    }

    def ours(run):
        harness.get_page(client, f"/customers/duplicates/?page={page}")

    def raw(run):
        harness.fetch(DUPLICATES_PAGE_SQL, params)

    return harness.Figure(f"duplicates.page_{page}", ours, raw, count_queries=True)
