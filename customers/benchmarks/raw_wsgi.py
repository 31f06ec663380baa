"""The raw-SQL baseline of the http figures (benchmarks/server.py): a minimal WSGI app that
serves their endpoints with the hand-written SQL of the other figures and no Django request
handling (no middleware, URL resolver, API key, form or service). Served by the same gunicorn
as config.wsgi, it shows what Django and our services cost per request.

    gunicorn customers.benchmarks.raw_wsgi  (BENCH_BUSINESS_ID: the business it writes to)
"""

import functools
import json
import os
import re

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.db import connection  # noqa: E402 (needs django.setup())

from customers.benchmarks.customers import PROFILE_SQL, raw_record_order  # noqa: E402
from customers.benchmarks.harness import fetch  # noqa: E402
from customers.models import Business  # noqa: E402
from customers.queries import ORDERS_PER_PAGE, TIMELINE_PER_PAGE  # noqa: E402

CUSTOMER_PATH = re.compile(r"/api/v1/customers/(\d+)")


@functools.cache
def bench_business():
    return Business.objects.get(pk=os.environ["BENCH_BUSINESS_ID"])


def application(environ, start_response):
    method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
    try:
        business = bench_business()
        if (method, path) == ("GET", "/healthz"):
            fetch("SELECT 1", [])
            status, data = 200, {"status": "ok"}
        elif (method, path) == ("POST", "/api/v1/orders"):
            status, data = 201, raw_record_order(business, read_json(environ))
        elif (method, path) == ("POST", "/api/v1/orders/batch"):
            results = [{"status": 201, **raw_record_order(business, o)} for o in read_json(environ)["orders"]]
            status, data = 200, {"results": results}
        elif method == "GET" and (match := CUSTOMER_PATH.fullmatch(path)):
            status, data = profile(business, int(match[1]))
        else:
            status, data = 404, {"errors": {"path": ["Not served by the raw baseline."]}}
    except Exception as error:
        # A broken connection would fail every later request of this worker.
        connection.close_if_unusable_or_obsolete()
        status, data = 500, {"errors": {"server": [f"{type(error).__name__}: {error}"]}}
    body = json.dumps(data, default=str).encode()
    start_response(
        f"{status} {'OK' if status < 400 else 'Error'}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def read_json(environ):
    return json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))


def profile(business, customer_id):
    """The profile figure's raw read: the customer, their latest orders and activities."""
    params = {
        "customer": customer_id,
        "business": business.pk,
        "orders": ORDERS_PER_PAGE + 1,
        "activities": TIMELINE_PER_PAGE + 1,
    }
    with connection.cursor() as cursor:
        cursor.execute(PROFILE_SQL[0], params)
        row = cursor.fetchone()
        if row is None:
            return 404, {"errors": {"customer": [f"No customer {customer_id} in this business."]}}
        customer = dict(zip([column.name for column in cursor.description], row, strict=True))
    orders, activities = (fetch(sql, params) for sql in PROFILE_SQL[1:])
    return 200, {**customer, "orders": len(orders), "activities": len(activities)}
