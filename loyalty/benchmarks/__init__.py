"""The figures of the loyalty tiers for `manage.py bench` (customers/benchmarks/harness.py
measures and prints them): the recalculation of every customer beside one raw UPDATE … FROM
of the same tiers, the what-if beside a raw GROUP BY, a customer's tier status beside its raw
reads, the orders API with the tier receivers beside the same API without them, and the
orders API with the points earn beside the same API without it."""

import json
import secrets
import zoneinfo
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.test import Client
from django.utils import timezone

from customers import services as customer_services
from customers.benchmarks import harness
from customers.benchmarks.harness import Figure, allowed_host, fetch
from customers.models import Customer
from customers.signals import order_recorded
from loyalty import queries, receivers, services
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


def tier_figures(context):
    business = context.business
    year_ago = timezone.now() - timedelta(days=365)
    params = [business.pk, year_ago, business.pk]
    services.tier_configuration(business)
    runs = max(2, min(context.repeat, 5))

    def recalculate(run):
        TierConfiguration.objects.filter(business=business).update(
            thresholds=configuration(run), grace_days=0
        )
        job = TierRecalculation.objects.create(business=business, reason="bench")
        services.run_recalculation(job.pk)

    def raw_update(run):
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE customers_customer SET tier = t.tier FROM ({raw_tiers_sql(run)}) t "
                "WHERE customers_customer.id = t.id",
                params,
            )

    yield Figure(
        "tiers.recalculation",
        recalculate,
        raw_update,
        runs=runs,
        warmup=1,
        unit="customers",
        per_run=context.customers,
    )

    def what_if(run):
        queries.what_if(business, thresholds=configuration(run + 1), grace_days=0)

    def raw_what_if(run):
        fetch(f"SELECT tier, COUNT(*) FROM ({raw_tiers_sql(run + 1)}) t GROUP BY tier", params)

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
    yield ingestion_figure(context, business, sample)


def ingestion_figure(context, business, sample):
    """POST /api/v1/orders to known customers, with the tier receiver (ours) and without it
    (raw): what re-evaluating the tier after every order costs the API."""
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

    def without_receiver(run):
        order_recorded.disconnect(dispatch_uid="loyalty.order_recorded")
        try:
            post(run)
        finally:
            order_recorded.connect(receivers.upgrade_after_order, dispatch_uid="loyalty.order_recorded")

    return Figure("tiers.order_ingestion", post, without_receiver, runs=5 * context.repeat, unit="orders")


# Each run refits and rewrites every customer's value: a few runs say enough.
CLV_RUNS = 3


def figures(context):
    if context.wants("tiers"):
        yield from tier_figures(context)
    if context.wants("points"):
        yield points_figure(context)
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


def points_figure(context):
    """POST /api/v1/orders of completed orders to known customers, with the points receiver
    (ours: the rule, the entry, the balance, the timeline line) and without it (raw)."""
    business = context.business
    sample = list(Customer.objects.filter(business=business).live().order_by("?")[: context.repeat])
    _, secret = customer_services.create_api_key(business=business, name="bench points", actor=None)
    client = Client(HTTP_HOST=allowed_host())
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    token = secrets.token_hex(4)
    numbers = iter(range(10**9))

    def post(run):
        body = {
            "external_id": f"bench-points-{token}-{next(numbers)}",
            "phone": sample[run % len(sample)].phone,
            "amount": "12.50",
            "status": "completed",
        }
        response = client.post("/api/v1/orders", json.dumps(body), "application/json", secure=True, **headers)
        if response.status_code != 201:
            raise AssertionError(f"POST /api/v1/orders answered {response.status_code}")

    def without_earn(run):
        order_recorded.disconnect(dispatch_uid="loyalty.points.order_recorded")
        try:
            post(run)
        finally:
            order_recorded.connect(receivers.earn_after_order, dispatch_uid="loyalty.points.order_recorded")

    return Figure("points.order_ingestion", post, without_earn, runs=5 * context.repeat, unit="orders")
