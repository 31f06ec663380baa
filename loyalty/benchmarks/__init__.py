"""The figures of the loyalty app for `manage.py bench` (customers/benchmarks/harness.py
measures and prints them): the recalculation of every customer beside one raw UPDATE … FROM
of the same tiers from the orders, the what-if beside a raw GROUP BY of the same tiers from
the stored rolling figures, a customer's tier status beside its raw reads, the profile page
with the loyalty panel beside the raw reads of the profile and the panel, the orders API with
the loyalty receivers beside the same API without them, and the lifetime value fit and
scoring beside the raw summary aggregate."""

import itertools
import json
import secrets
import weakref
import zoneinfo
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.test import Client
from django.utils import timezone

from customers import services as customer_services
from customers.benchmarks import harness
from customers.benchmarks.customers import PROFILE_SQL
from customers.benchmarks.harness import Figure, allowed_host, fetch, get_page
from customers.models import Customer
from customers.queries import ORDERS_PER_PAGE, TIMELINE_PER_PAGE
from customers.signals import order_recorded
from loyalty import queries, services
from loyalty.models import TierConfiguration, TierRecalculation
from loyalty.tiers import thresholds

# Two configurations, swapped at every run, so that every recalculation moves customers.
SILVER_SPENDS = ["60.00", "120.00"]


def configuration(run):
    return thresholds(
        silver={"spend": SILVER_SPENDS[run % 2]},
        gold={"spend": "400.00", "visits": 4},
        platinum={"spend": "900.00", "visits": 8, "period": "yearly"},
    )


def raw_tiers_sql(run):
    """The tiers of `configuration(run)` by hand: the yearly aggregate and lifetime stats."""
    silver = SILVER_SPENDS[run % 2]
    return (
        "WITH r AS (SELECT customer_id, SUM(amount) AS spend, COUNT(*) AS visits FROM customers_order "
        "WHERE business_id = %s AND status = 'completed' AND placed_at >= %s GROUP BY customer_id) "
        "SELECT c.id, CASE WHEN COALESCE(r.spend, 0) >= 900 AND COALESCE(r.visits, 0) >= 8 THEN 'PLATINUM' "
        "WHEN c.total_spent >= 400 AND c.order_count >= 4 THEN 'GOLD' "
        f"WHEN c.total_spent >= {silver} THEN 'SILVER' ELSE 'BRONZE' END AS tier "
        "FROM customers_customer c LEFT JOIN r ON r.customer_id = c.id "
        "WHERE c.business_id = %s AND c.deleted_at IS NULL"
    )


def raw_stored_tiers_sql(run):
    """The tiers of `configuration(run)` by hand from the stored rolling figures, beside today's."""
    silver = SILVER_SPENDS[run % 2]
    return (
        "SELECT c.tier AS old_tier, "
        "CASE WHEN COALESCE(r.spend_yearly, 0) >= 900 AND COALESCE(r.visits_yearly, 0) >= 8 THEN 'PLATINUM' "
        "WHEN c.total_spent >= 400 AND c.order_count >= 4 THEN 'GOLD' "
        f"WHEN c.total_spent >= {silver} THEN 'SILVER' ELSE 'BRONZE' END AS tier "
        "FROM customers_customer c LEFT JOIN loyalty_rollingfigures r ON r.customer_id = c.id "
        "WHERE c.business_id = %s AND c.deleted_at IS NULL"
    )


def tier_figures(context):
    business = context.business
    year_ago = timezone.now() - timedelta(days=365)
    params = [business.pk, year_ago, business.pk]
    services.tier_configuration(business)
    runs = max(2, min(context.repeat, 5))

    # Every recalculation and every raw UPDATE takes the other configuration than the one
    # before it, so that each moves customers (about a fifth of them at 1,000,000). The raw
    # UPDATE writes, like ours, only the customers whose tier changes.
    flips = itertools.count()

    def recalculate(run):
        TierConfiguration.objects.filter(business=business).update(
            thresholds=configuration(next(flips)), grace_days=0
        )
        job = TierRecalculation.objects.create(business=business, reason="bench")
        services.run_recalculation(job.pk)

    def raw_update(run):
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE customers_customer SET tier = t.tier FROM ({raw_tiers_sql(next(flips))}) t "
                "WHERE customers_customer.id = t.id AND customers_customer.tier <> t.tier",
                params,
            )

    yield Figure(
        "tiers.recalculation",
        recalculate,
        raw_update,
        runs=runs,
        # Every run moves customers, so none is spent warming up.
        warmup=0,
        unit="customers",
        per_run=context.customers,
    )

    def what_if(run):
        queries.what_if(business, thresholds=configuration(run + 1), grace_days=0)

    def raw_what_if(run):
        fetch(
            f"SELECT old_tier, tier, COUNT(*) FROM ({raw_stored_tiers_sql(run + 1)}) t "
            "GROUP BY old_tier, tier",
            [business.pk],
        )

    yield Figure("tiers.what_if", what_if, raw_what_if, runs=runs, warmup=1)

    sample = list(Customer.objects.filter(business=business).live().order_by("?")[: context.repeat])

    def status(run):
        queries.tier_status(sample[run % len(sample)])

    def raw_status(run):
        customer = sample[run % len(sample)]
        fetch(
            "SELECT thresholds, grace_days FROM loyalty_tierconfiguration WHERE business_id = %s",
            [business.pk],
        )
        fetch("SELECT * FROM loyalty_tierstate WHERE customer_id = %s", [customer.pk])
        fetch(
            "SELECT SUM(amount), COUNT(*) FROM customers_order WHERE customer_id = %s "
            "AND status = 'completed' AND placed_at >= %s",
            [customer.pk, year_ago],
        )

    yield Figure("tiers.status", status, raw_status, count_queries=True)
    yield profile_figure(context, business)
    yield ingestion_figure(context, business, sample)


# The profile's own reads, as the customers app's profile figure runs them, then the panel's.
PROFILE_LOYALTY_SQL = [
    *PROFILE_SQL,
    "SELECT thresholds, grace_days FROM loyalty_tierconfiguration WHERE business_id = %(business)s",
    "SELECT * FROM loyalty_tierstate WHERE customer_id = %(customer)s",
    """SELECT SUM(amount), COUNT(*) FROM customers_order WHERE customer_id = %(customer)s
       AND status = 'completed' AND placed_at >= %(year_ago)s""",
    "SELECT * FROM loyalty_customerlifetimevalue WHERE customer_id = %(customer)s",
]


def profile_figure(context, business):
    """GET of the profile page of the biggest spenders, as their owner sees it: the loyalty
    panel with tier, progress and lifetime value."""
    client = context.client_for(context.users["owner"])
    biggest = Customer.objects.live().filter(business=business).order_by("-total_spent", "-id")
    customers = list(biggest.values_list("pk", flat=True)[:5])
    year_ago = timezone.now() - timedelta(days=365)

    def ours(run):
        get_page(client, f"/customers/{customers[run % len(customers)]}/")

    def raw(run):
        params = {
            "customer": customers[run % len(customers)],
            "business": business.pk,
            "orders": ORDERS_PER_PAGE + 1,
            "activities": TIMELINE_PER_PAGE + 1,
            "year_ago": year_ago,
        }
        for sql in PROFILE_LOYALTY_SQL:
            fetch(sql, params)

    return Figure("loyalty.profile", ours, raw, count_queries=True)


def ingestion_figure(context, business, sample):
    """POST /api/v1/orders to known customers, with the loyalty receivers (ours) and without
    them (raw): what re-evaluating the tier (and the rest loyalty does) after every order costs
    the API."""
    _, secret = customer_services.create_api_key(business=business, name="bench loyalty", actor=None)
    client = Client(HTTP_HOST=allowed_host())
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    token = secrets.token_hex(4)
    numbers = iter(range(10**9))

    def post(run):
        customer = sample[run % len(sample)]
        body = {
            "external_id": f"bench-tiers-{token}-{next(numbers)}",
            "phone": customer.phone,
            "amount": str(Decimal("12.50")),
            "placed_at": timezone.now().isoformat(),
            "status": "completed",
        }
        response = client.post("/api/v1/orders", json.dumps(body), "application/json", secure=True, **headers)
        if response.status_code != 201:
            raise AssertionError(f"POST /api/v1/orders answered {response.status_code}")

    def without_receivers(run):
        connected = loyalty_receivers(order_recorded)
        for uid, _ in connected:
            order_recorded.disconnect(dispatch_uid=uid)
        try:
            post(run)
        finally:
            for uid, receiver in connected:
                order_recorded.connect(receiver, dispatch_uid=uid)

    return Figure("loyalty.order_ingestion", post, without_receivers, runs=5 * context.repeat, unit="orders")


def loyalty_receivers(signal):
    """(dispatch uid, receiver) of every receiver the loyalty app connected to `signal`."""
    found = []
    for (uid, _), receiver, *_ in signal.receivers:
        if isinstance(uid, str) and uid.startswith("loyalty."):
            found.append((uid, receiver() if isinstance(receiver, weakref.ReferenceType) else receiver))
    return found


# Each run refits and rewrites every customer's value: a few runs say enough.
CLV_RUNS = 3


def figures(context):
    # `--only tiers.what_if` asks for one of the tier figures: the harness picks it among them.
    if context.wants("tiers", "loyalty") or any(
        prefix.startswith(("tiers.", "loyalty.")) for prefix in context.only
    ):
        yield from tier_figures(context)
    if context.wants("clv"):
        yield clv_figure(context.business)


def clv_figure(business):
    """Fit and scoring of every customer, stored, against the summary aggregate alone in raw SQL."""
    as_of = timezone.localdate(timezone=zoneinfo.ZoneInfo(business.timezone))
    fits = []

    def ours(run):
        fits.append(services.fit_lifetime_values(business=business, actor=None, as_of=as_of))

    def raw(run):
        harness.fetch(*queries.lifetime_summary_sql(business, as_of))

    def note():
        return f"{fits[-1].customers} customers valued, {fits[-1].model_version}"

    return harness.Figure("clv.fit_and_score", ours=ours, raw=raw, runs=CLV_RUNS, warmup=1, note=note)
