"""The figures of segments for `manage.py bench` (customers/benchmarks/harness.py measures
and prints them), each beside the SQL statements doing the same work: the preview of each
preset beside its compiled count and sample, the full recalculation of each preset
beside the one statement materializing its members, the order API with the segments'
receiver beside the API without it, the lag from an API order to the membership it causes,
and a bulk tag of 100,000 customers beside its two raw INSERTs."""

import json
import secrets
import time
from decimal import Decimal

from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from customers import bulk_actions
from customers import services as customer_services
from customers.benchmarks.harness import Figure, allowed_host, fetch
from customers.models import Customer, Order
from customers.services.bulk_actions import find_or_create_tag
from customers.signals import order_recorded
from segments import receivers, rules, services
from segments.models import PendingEvaluation, Segment
from segments.services.presets import PRESETS

BULK_TAG_CUSTOMERS = 100_000
RECALCULATION_RUNS = 3


def figures(context):
    business = context.business
    services.ensure_presets(business=business)
    presets = {
        segment.preset: segment
        for segment in Segment.objects.live().filter(business=business).exclude(preset="")
    }
    if context.wants("segments.preview"):
        for preset in PRESETS:
            yield preview_figure(business, preset, context)
    if context.wants("segments.recalc"):
        for preset in PRESETS:
            if preset.key in presets:
                yield recalculation_figure(business, presets[preset.key])
    if context.wants("segments.order_ingestion", "segments.incremental_lag"):
        yield from incremental_figures(context, business)
    if context.wants("segments.bulk_tag"):
        yield bulk_tag_figure(business)


def members_sql(segment_rules, business):
    return rules.members(segment_rules, business=business).order_by().values("pk").query.sql_with_params()


def preview_figure(business, preset, context):
    """The preview (count and newest 20, under its statement timeout) beside the same two
    statements, compiled once and run bare."""
    sql, params = members_sql(preset.rules, business)
    newest = rules.members(preset.rules, business=business).order_by("-created_at", "-id").values("pk")[:20]
    sample_sql, sample_params = newest.query.sql_with_params()

    def ours(run):
        rules.preview(preset.rules, business=business)

    def raw(run):
        fetch(f"SELECT COUNT(*) FROM ({sql}) m", params)
        fetch(sample_sql, sample_params)

    return Figure(f"segments.preview.{preset.key}", ours, raw, runs=max(5, min(context.repeat, 20)))


def recalculation_figure(business, segment):
    """The scheduled recalculation of a preset (its members computed again, the few changes
    written) beside the one statement materializing its members; the note gives the first
    fill, every member joining with its history row and timeline entry."""
    sql, params = members_sql(segment.rules, business)
    first_fill = []

    def ours(run):
        started = time.perf_counter()
        joined, _ = services.recalculate(segment)
        if joined and not first_fill:
            first_fill.append((time.perf_counter() - started, joined))

    def raw(run):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE bench_members ON COMMIT DROP AS {sql}", params)

    def note():
        if not first_fill:
            return "members were computed before"
        seconds, joined = first_fill[0]
        return f"first fill: {joined} joined in {seconds:.1f} s"

    segment.memberships.all().delete()
    Segment.objects.filter(pk=segment.pk).update(member_count=0)
    return Figure(
        f"segments.recalc.{segment.preset}", ours, raw, runs=RECALCULATION_RUNS, warmup=1, note=note
    )


def incremental_figures(context, business):
    """POST /api/v1/orders with the segments' receiver and without it; then the lag from the
    API's answer to the membership the order causes, the batch run as the every-minute
    schedule runs it (the schedule's period, up to 60 s, comes on top)."""
    _, secret = customer_services.create_api_key(business=business, name="bench segments", actor=None)
    client = Client(HTTP_HOST=allowed_host())
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    token = secrets.token_hex(4)
    numbers = iter(range(10**9))
    segment, _ = services.create_segment(
        business=business,
        actor=None,
        name=f"Bench big order {token}",
        rules={
            "operator": "AND",
            "rules": [
                {
                    "field": "total_spent",
                    "operator": "greater_than",
                    "value": 100_000,
                    "timeframe": "last_30_days",
                }
            ],
        },
    )
    services.recalculate(segment)
    sample = list(Customer.objects.filter(business=business).live().order_by("?")[: context.repeat])

    def post(run, amount="12.50"):
        body = {
            "external_id": f"bench-segments-{token}-{next(numbers)}",
            "phone": sample[run % len(sample)].phone,
            "amount": str(Decimal(amount)),
            "placed_at": timezone.now().isoformat(),
            "status": "completed",
        }
        response = client.post("/api/v1/orders", json.dumps(body), "application/json", secure=True, **headers)
        if response.status_code != 201:
            raise AssertionError(f"POST /api/v1/orders answered {response.status_code}")
        return response.json()["customer_id"]

    def without_receiver(run):
        order_recorded.disconnect(dispatch_uid="segments.order_recorded")
        try:
            post(run)
        finally:
            order_recorded.connect(receivers.note_order, dispatch_uid="segments.order_recorded")

    yield Figure("segments.order_ingestion", post, without_receiver, runs=5 * context.repeat, unit="orders")
    PendingEvaluation.objects.filter(business=business).delete()
    lags = []

    def lag(run):
        started = time.perf_counter()
        customer_id = post(run, amount="200000.00")
        services.evaluate_pending()
        if not segment.memberships.filter(customer_id=customer_id).exists():
            raise AssertionError("the order did not bring its customer into the segment")
        lags.append(time.perf_counter() - started)
        # Through the status service, so that the customers' stats and the dashboard's
        # summaries stay exact for the figures after this one.
        big = Order.objects.filter(
            business=business, external_id__startswith=f"bench-segments-{token}", status="completed"
        )
        for order in big.filter(amount__gte=Decimal("200000")).select_related("customer"):
            customer_services.change_order_status(order=order, status="cancelled", actor=None)

    def note():
        Segment.objects.filter(pk=segment.pk).update(deleted_at=timezone.now())
        return f"API answer to membership, batch included ({len(lags)} orders); the schedule adds <= 60 s"

    yield Figure("segments.incremental_lag", lag, runs=max(5, min(context.repeat, 20)), warmup=1, note=note)


def bulk_tag_figure(business):
    """The bulk action "Add a tag" on 100,000 customers as the page runs it: a job, chunk by
    chunk, with the re-evaluation notes; beside the two raw INSERTs of links and timeline."""
    ids = list(
        Customer.objects.filter(business=business)
        .live()
        .order_by("pk")
        .values_list("pk", flat=True)[:BULK_TAG_CUSTOMERS]
    )
    customers = Customer.objects.filter(business=business, pk__gte=ids[0], pk__lte=ids[-1])
    token = secrets.token_hex(3)

    def ours(run):
        _, job = customer_services.run_bulk_action(
            business=business,
            action=bulk_actions.ACTIONS["add_tag"],
            customers=customers,
            params={"name": f"bench-{token}-{run}"},
            actor=None,
        )
        if job is not None:  # a small bench business is tagged at once, with no job
            customer_services.run_bulk_action_job(job.pk)
        PendingEvaluation.objects.filter(business=business).delete()

    def raw(run):
        tag = find_or_create_tag(business, f"bench-raw-{token}-{run}")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO customers_customer_tags (customer_id, tag_id) "
                "SELECT id, %s FROM customers_customer WHERE id = ANY(%s)",
                [tag.pk, ids],
            )
            cursor.execute(
                "INSERT INTO customers_activity (business_id, customer_id, kind, data, created_at) "
                "SELECT %s, id, 'tagged', %s::jsonb, now() FROM customers_customer WHERE id = ANY(%s)",
                [business.pk, json.dumps({"tag": tag.name}), ids],
            )

    return Figure("segments.bulk_tag", ours, raw, runs=3, warmup=0, unit="customers", per_run=len(ids))
