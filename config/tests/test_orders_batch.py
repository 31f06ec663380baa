"""POST /api/v1/orders/batch against POST /api/v1/orders: the same orders sent one by one
to a business and in one batch to its twin leave the same customers, orders, items,
payments, addresses, summaries, timeline, points, consents and webhook events (here, where
every app's tables may be read)."""

import json

import pytest

from customers import services
from customers.models import (
    Activity,
    Business,
    CohortActivity,
    Customer,
    DailyOrderSummary,
    Dropoff,
    Order,
    OrderItem,
    Payment,
    RepeatOrderSummary,
    WebhookEvent,
)
from customers.tests.api.test_batch import URL, order
from loyalty.models import PointsEntry
from privacy.models import ConsentEvent


@pytest.fixture
def post(client):
    def send(payload, key, url=URL):
        return client.post(
            url,
            json.dumps(payload),
            content_type="application/json",
            headers={"Authorization": f"Bearer {key}"},
        )

    return send


def batch_orders():
    """Orders that exercise every rule: known and new customers, blanks filled, a customer
    with several orders, a blocked one, a backdated one, payments, opt-ins, a repeat."""
    payment = {"transaction_id": "tx-1", "amount": "20.00", "method": "card", "provider": "stripe"}
    return [
        order(1, email=..., payments=[payment, {**payment, "transaction_id": "tx-2", "amount": "22.50"}]),
        order(2, status="pending", email_opt_in=True),
        order(1, external_id="B-1b", email="ann@later.example", placed_at="2026-10-01T09:00:00Z"),
        order(3, first_name=..., last_name=..., email=..., address=..., items=..., marketing_opt_in=False),
        order(4),  # the blacklisted customer's
        order(5, phone="+1 415 555 0101", amount="5"),  # the customer known beforehand
        order(2, external_id="B-2b", sms_opt_in=False, address={"street": "9 Oak Ave", "country": "us"}),
        order(6, currency="eur", items=[{"name": "Tea", "quantity": 3, "price": "1.5"}], source=""),
        order(1),  # a repeat of the first
    ]


def prepare(business, owner):
    services.create_endpoint(
        business=business, url="https://hooks.example/x", events=["*"], secret="s", actor=None
    )
    known = Customer.objects.create(business=business, phone="+14155550101", first_name="Kim")
    blocked = Customer.objects.create(business=business, phone="+14155551004")
    services.blacklist_customer(customer=blocked, reason="fraud", note="", actor=owner)
    return known


def state(business):
    """What the orders left in a business, without its ids and times of writing."""
    customers = {c.pk: c.phone for c in Customer.objects.filter(business=business)}
    orders = {o.pk: o.external_id for o in Order.objects.filter(business=business)}

    def plain(data):
        ids = {"order_id": orders, "customer_id": customers}
        return {
            key: ids[key].get(value) if key in ids else value
            for key, value in data.items()
            if key not in ("id", "payment_id", "entry_id")
        }

    return {
        "customers": sorted(
            Customer.objects.filter(business=business).values_list(
                "phone",
                "first_name",
                "last_name",
                "email",
                "search_text",
                "order_count",
                "total_spent",
                "first_order_at",
                "last_order_at",
                "tier",
                "points_balance",
                "is_blacklisted",
            )
        ),
        "orders": sorted(
            Order.objects.filter(business=business).values_list(
                "external_id",
                "customer__phone",
                "amount",
                "currency",
                "status",
                "placed_at",
                "completed_at",
                "source",
                "created_customer",
                "dropoff__street",
                "dropoff__country",
                "dropoff__lat",
                "dropoff__is_default",
            )
        ),
        "dropoffs": sorted(
            Dropoff.objects.filter(business=business).values_list(
                "customer__phone",
                "kind",
                "address_key",
                "street",
                "city",
                "country",
                "lat",
                "lng",
                "is_default",
            )
        ),
        "items": sorted(
            OrderItem.objects.filter(business=business).values_list(
                "order__external_id", "sku", "name", "category", "quantity", "price"
            )
        ),
        "payments": sorted(
            Payment.objects.filter(business=business).values_list(
                "order__external_id",
                "transaction_id",
                "amount",
                "currency",
                "method",
                "status",
                "provider",
                "processed_at",
            )
        ),
        "activities": sorted(
            (customers[a.customer_id], a.kind, json.dumps(plain(a.data), sort_keys=True))
            for a in Activity.objects.filter(business=business)
        ),
        "points": sorted(
            PointsEntry.objects.filter(business=business).values_list(
                "customer__phone", "kind", "points", "order__external_id"
            )
        ),
        "consents": sorted(
            ConsentEvent.objects.filter(business=business).values_list(
                "customer__phone", "purpose", "channel", "action", "source", "evidence", "reference"
            )
        ),
        "days": sorted(
            DailyOrderSummary.objects.filter(business=business).values_list(
                "day",
                "orders",
                "revenue",
                "blocked_orders",
                "new_customers",
                "activity_starts",
                "activity_ends",
            )
        ),
        "cohorts": sorted(
            CohortActivity.objects.filter(business=business).values_list("cohort", "month", "customers")
        ),
        "repeats": sorted(
            RepeatOrderSummary.objects.filter(business=business).values_list(
                "day", "ordinal", "previous_day", "orders"
            )
        ),
        "events": sorted(
            (
                event.type,
                json.dumps(
                    {**event.data, "orders": [plain(o) for o in event.data.get("orders", [])]}
                    if "orders" in event.data
                    else {**event.data, "customer_ids": [customers[pk] for pk in event.data["customer_ids"]]},
                    sort_keys=True,
                ),
            )
            for event in WebhookEvent.objects.filter(business=business)
        ),
    }


def test_a_batch_leaves_exactly_what_its_orders_sent_one_by_one_leave(post, business, owner):
    other = Business.objects.create(name="Acme Twin", slug="acme-twin", default_country="US")
    _, api_key = services.create_api_key(business=business, name="Partner app", actor=None)
    _, other_key = services.create_api_key(business=other, name="Partner app", actor=None)
    for each in (business, other):
        prepare(each, owner)

    one_by_one = [post(body, api_key, "/api/v1/orders") for body in batch_orders()]
    batch = post({"orders": batch_orders()}, other_key).json()["results"]

    assert [result["status"] for result in batch] == [response.status_code for response in one_by_one]
    assert [
        {k: v for k, v in r.items() if k not in ("order_id", "customer_id", "status")} for r in batch
    ] == [{k: v for k, v in r.json().items() if k in ("customer_created", "blocked")} for r in one_by_one]
    alone, together = state(business), state(other)
    assert all(alone.values())
    for part in alone:
        assert alone[part] == together[part], part
