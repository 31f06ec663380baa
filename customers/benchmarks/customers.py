"""Figures of search, the customer list, the profile and order ingestion through the API,
run by `manage.py bench` (see customers/benchmarks/harness.py for the harness)."""

import itertools
import json
import random
import re
import secrets
from decimal import Decimal
from urllib.parse import urlencode

from django.db import connection, transaction
from django.test import Client, RequestFactory
from django.utils import timezone

from customers import demo, services
from customers.benchmarks.harness import Figure, allowed_host, create_api_key, fetch, get_page
from customers.filters import list_filter
from customers.models import Customer, searchable
from customers.queries import CUSTOMERS_PER_PAGE, ORDERS_PER_PAGE, TIMELINE_PER_PAGE, page_of
from customers.tenancy import scoped

DEEP_PAGE = 200


# Customers figures ---------------------------------------------------------------------


def figures(context):
    business, rng, user = context.business, context.rng, context.users["support"]
    client = context.client_for(user)
    customers = Customer.objects.live().filter(business=business)
    sample = list(customers.exclude(email="").order_by("?")[: max(context.repeat, 10)])
    if not sample:
        raise RuntimeError(f"{business} has no customers to search for.")
    fragments = [phone_fragment(customer.phone, rng) for customer in sample]
    names = [customer.last_name[: rng.randint(4, 6)] for customer in sample]
    emails = [customer.email for customer in sample]
    lists = {
        "search.phone_fragment": [{"q": text} for text in fragments],
        "search.name_fragment": [{"q": text} for text in names],
        "search.email": [{"q": text} for text in emails],
        "list.first_page": [{}],
        f"list.page_{DEEP_PAGE}": [{"page": DEEP_PAGE}],
    }
    for name, queries in lists.items():
        yield list_page_figure(name, client, business, queries)
        yield list_query_figure(f"{name}.query", user, business, queries)
    yield profile_figure(client, business)
    api_key, secret = create_api_key(business)
    # A partner app sends its key, not a staff session cookie.
    api_client = Client(HTTP_HOST=allowed_host())
    orders = ingestion_figure(api_client, business, sample, secret, runs=10 * context.repeat, rng=rng)
    yield orders
    yield payment_figure(orders, api_client, business, sample, secret, runs=10 * context.repeat, rng=rng)
    if context.wants("api.orders_batch"):
        # A partner's batch brings orders of many customers, not of a few.
        many = list(customers.order_by("?")[:1000])
        sizes = [
            ("api.orders_batch_100", 100, max(2, context.repeat // 5)),
            ("api.orders_batch", 1000, max(1, context.repeat // 15)),
        ]
        for name, size, runs in sizes:
            yield batch_figure(name, api_client, business, many, secret, rng, size, runs)
    services.revoke_api_key(api_key=api_key, actor=None)


def phone_fragment(phone, rng):
    """4-7 consecutive digits of the national number, as someone reading them off a receipt."""
    digits = phone[2:]
    length = rng.randint(4, 7)
    start = rng.randint(0, len(digits) - length)
    return digits[start : start + length]


def like_pattern(text):
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# The columns of queries.LIST_FIELDS, and the tags the list prefetches for its rows.
LIST_SQL = """
    SELECT id, phone, first_name, last_name, email, status, is_blacklisted, order_count, total_spent,
           last_order_at, created_at
    FROM customers_customer
    WHERE business_id = %s AND deleted_at IS NULL {condition}
    ORDER BY created_at DESC, id DESC
    LIMIT %s OFFSET %s
"""
LIST_TAGS_SQL = """
    SELECT customer_tags.customer_id, tag.id, tag.business_id, tag.name, tag.color
    FROM customers_tag tag JOIN customers_customer_tags customer_tags ON customer_tags.tag_id = tag.id
    WHERE customer_tags.customer_id = ANY(%s)
    ORDER BY tag.name
"""


def raw_list(business, query):
    """A page of the list, `query` being its URL parameters, in hand-written SQL."""
    condition, params = "", []
    text = query.get("q")
    if text:
        condition, params = "AND (search_text LIKE %s", [like_pattern(searchable(text))]
        if re.fullmatch(r"\d{4,}", text):
            condition += " OR phone LIKE %s"
            params.append(like_pattern(text))
        condition += ")"
    offset = (query.get("page", 1) - 1) * CUSTOMERS_PER_PAGE
    rows = fetch(LIST_SQL.format(condition=condition), [business.pk, *params, CUSTOMERS_PER_PAGE + 1, offset])
    if rows:
        fetch(LIST_TAGS_SQL, [[row[0] for row in rows]])


def list_page_figure(name, client, business, queries):
    """The list page end to end, one of `queries` (URL parameters) per run."""

    def ours(run):
        get_page(client, "/customers/?" + urlencode(queries[run % len(queries)]))

    def raw(run):
        raw_list(business, queries[run % len(queries)])

    return Figure(name, ours, raw, count_queries=True)


def list_query_figure(name, user, business, queries):
    """The rows of the same page as the view gets them: the queryset its filter code builds
    (built here beforehand: checking the filter form is not data access), evaluated by
    page_of with the tags."""
    pages = []
    for query in queries:
        request = RequestFactory().get("/customers/", query)
        request.user, request.business = user, business
        pages.append((list_filter(request, scoped(request, Customer).live()).qs, query.get("page")))

    def ours(run):
        queryset, page = pages[run % len(pages)]
        page_of(queryset.all(), page, CUSTOMERS_PER_PAGE)

    def raw(run):
        raw_list(business, queries[run % len(queries)])

    return Figure(name, ours, raw, count_queries=True)


PROFILE_SQL = [
    "SELECT * FROM customers_customer WHERE id = %(customer)s AND business_id = %(business)s",
    """SELECT * FROM customers_order WHERE customer_id = %(customer)s
       ORDER BY placed_at DESC, id DESC LIMIT %(orders)s""",
    """SELECT * FROM customers_activity WHERE customer_id = %(customer)s
       ORDER BY created_at DESC, id DESC LIMIT %(activities)s""",
]


def profile_figure(client, business):
    """The profile of the biggest spenders (who have the most orders and activities)."""
    biggest = Customer.objects.live().filter(business=business).order_by("-total_spent", "-id")
    customers = list(biggest.values_list("pk", flat=True)[:5])

    def ours(run):
        get_page(client, f"/customers/{customers[run % len(customers)]}/")

    def raw(run):
        params = {
            "customer": customers[run % len(customers)],
            "business": business.pk,
            "orders": ORDERS_PER_PAGE + 1,
            "activities": TIMELINE_PER_PAGE + 1,
        }
        for sql in PROFILE_SQL:
            fetch(sql, params)

    return Figure("profile.top_customer", ours, raw, count_queries=True)


def ingestion_figure(client, business, sample, secret, runs, rng, with_payment=False):
    """POST /api/v1/orders, one client, sequential: half to known phones, half to new ones.
    The raw baseline does the core of it in one transaction: find or insert the customer,
    insert the order and its items, bump the customer's stats. `with_payment`: each order
    carries one card payment of its amount."""
    next_order = order_source(business, sample, rng, with_payment)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    def ours(run):
        body = json.dumps(next_order())
        response = client.post("/api/v1/orders", body, "application/json", secure=True, **headers)
        if response.status_code != 201:
            detail = response.content[:300].decode(errors="replace")
            raise AssertionError(f"POST /api/v1/orders answered {response.status_code}: {detail}")

    def raw(run):
        raw_record_order(business, next_order())

    return Figure("api.orders", ours, raw, runs=runs, count_queries=True, unit="orders")


def batch_figure(name, client, business, sample, secret, rng, size, runs):
    """POST /api/v1/orders/batch with `size` orders of api.orders' kind (half to known
    phones, half to new ones), against api.orders' raw baseline for each of them."""
    next_order = order_source(business, sample, rng)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    def ours(run):
        body = json.dumps({"orders": [next_order() for _ in range(size)]})
        response = client.post("/api/v1/orders/batch", body, "application/json", secure=True, **headers)
        results = response.json()["results"] if response.status_code == 200 else []
        if {result["status"] for result in results} != {201}:
            detail = response.content[:300].decode(errors="replace")
            raise AssertionError(f"POST /api/v1/orders/batch answered {response.status_code}: {detail}")

    def raw(run):
        for _ in range(size):
            raw_record_order(business, next_order())

    return Figure(name, ours, raw, runs=runs, warmup=1, count_queries=True, unit="orders", per_run=size)


def order_source(business, sample, rng, with_payment=False):
    """A function that makes the next order of a bench: odd ones to the sample's phones, even
    ones to new phones."""
    token = secrets.token_hex(4)
    fresh = random.Random(token)
    counter = itertools.count()
    address = {"street": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}

    def next_order():
        number = next(counter)
        if number % 2:
            customer = sample[number % len(sample)]
            phone, first_name, last_name = customer.phone, customer.first_name, customer.last_name
        else:
            # Far above the indices seed_demo uses, and drawn afresh in every run (the seeded
            # rng repeats itself from run to run), so these phones are new.
            phone = demo.phone_for_index(fresh.randrange(demo.PHONE_SPACE // 2, demo.PHONE_SPACE))
            first_name, last_name = rng.choice(demo.NAMES["en"][0]), rng.choice(demo.NAMES["en"][1])
        sku, name, category, cents = rng.choice(demo.PRODUCTS)
        quantity = rng.randint(1, 3)
        price = Decimal(cents) / 100
        item = {"sku": sku, "name": name, "category": category, "quantity": quantity, "price": str(price)}
        order = {
            "external_id": f"bench-{token}-{number}",
            "phone": phone,
            "first_name": first_name,
            "last_name": last_name,
            "amount": str(price * quantity),
            "currency": business.currency,
            "placed_at": timezone.now().isoformat(),
            "status": "completed",
            "source": "web",
            "address": address,
            "items": [item],
        }
        if with_payment:
            payment = {"transaction_id": order["external_id"], "amount": order["amount"], "method": "card"}
            order["payments"] = [
                {**payment, "status": "succeeded", "provider": "stripe", "processed_at": None}
            ]
        return order

    return next_order


def payment_figure(orders, client, business, sample, secret, runs, rng):
    """POST /api/v1/orders with one payment each, against api.orders' same orders without
    (ratio = with / without: the payment's cost, which should stay under 1.10)."""
    paid = ingestion_figure(client, business, sample, secret, runs, rng, with_payment=True)
    return Figure(
        "api.orders_with_payment", paid.ours, orders.ours, runs=runs, count_queries=True, unit="orders"
    )


FIND_CUSTOMER_SQL = """
    SELECT id, is_blacklisted FROM customers_customer
    WHERE business_id = %(business)s AND phone = %(phone)s AND deleted_at IS NULL
    FOR UPDATE
"""
INSERT_CUSTOMER_SQL = """
    INSERT INTO customers_customer (
        business_id, phone, first_name, last_name, preferred_name, email, language, timezone, status,
        phone_verified, is_blacklisted, tier, points_balance, order_count, total_spent, search_text,
        created_at, updated_at
    ) VALUES (
        %(business)s, %(phone)s, %(first_name)s, %(last_name)s, '', '', '', '', 'active',
        false, false, 'BRONZE', 0, 0, 0, %(search_text)s,
        %(now)s, %(now)s
    ) RETURNING id, is_blacklisted
"""
INSERT_ORDER_SQL = """
    INSERT INTO customers_order (
        business_id, external_id, customer_id, amount, currency, status, placed_at, completed_at, source,
        created_customer, created_at
    ) VALUES (
        %(business)s, %(external_id)s, %(customer)s, %(amount)s, %(currency)s, %(status)s, %(now)s,
        %(completed_at)s, %(source)s, %(created_customer)s, %(now)s
    ) RETURNING id
"""
INSERT_ITEM_SQL = """
    INSERT INTO customers_orderitem (business_id, order_id, sku, name, category, quantity, price)
    VALUES (%(business)s, %(order)s, %(sku)s, %(name)s, %(category)s, %(quantity)s, %(price)s)
"""
ADD_TO_STATS_SQL = """
    UPDATE customers_customer
    SET order_count = order_count + 1, total_spent = total_spent + %(amount)s,
        first_order_at = LEAST(COALESCE(first_order_at, %(now)s), %(now)s),
        last_order_at = GREATEST(COALESCE(last_order_at, %(now)s), %(now)s)
    WHERE id = %(customer)s
"""


@transaction.atomic
def raw_record_order(business, order):
    """The core of recording `order` (a payload of POST /api/v1/orders); returns the ids
    the API answers with."""
    params = {
        **order,
        "business": business.pk,
        "now": timezone.now(),
        "amount": Decimal(order["amount"]),
        "search_text": searchable(order["first_name"], order["last_name"]),
    }
    found = fetch(FIND_CUSTOMER_SQL, params)
    [(params["customer"], blacklisted)] = found or fetch(INSERT_CUSTOMER_SQL, params)
    params["status"] = "blocked" if blacklisted else order["status"]
    params["completed_at"] = params["now"] if params["status"] == "completed" else None
    params["created_customer"] = not found
    [(params["order"],)] = fetch(INSERT_ORDER_SQL, params)
    with connection.cursor() as cursor:
        cursor.executemany(INSERT_ITEM_SQL, [{**params, **item} for item in order["items"]])
        if params["status"] == "completed":
            cursor.execute(ADD_TO_STATS_SQL, params)
    return {
        "order_id": params["order"],
        "customer_id": params["customer"],
        "customer_created": params["created_customer"],
        "blocked": blacklisted,
    }
