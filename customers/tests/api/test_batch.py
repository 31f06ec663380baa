"""POST /api/v1/orders/batch: up to 1,000 orders of the single-order format in one request,
recorded set-based with the rules of POST /api/v1/orders, one result per order."""

import json

import jsonschema_rs
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers import services
from customers.api import responses
from customers.models import (
    Customer,
    Dropoff,
    Order,
    Payment,
)
from customers.tests.api.test_api import valid_order

URL = "/api/v1/orders/batch"


@pytest.fixture
def api_key(business):
    _, secret = services.create_api_key(business=business, name="Partner app", actor=None)
    return secret


@pytest.fixture
def post(client):
    def send(payload, key, url=URL):
        body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
        return client.post(
            url, body, content_type="application/json", headers={"Authorization": f"Bearer {key}"}
        )

    return send


def order(number, **changes):
    return valid_order(
        **{"external_id": f"B-{number}", "phone": f"+1 415 555 {1000 + number:04d}", **changes}
    )


def test_each_order_gets_its_result_in_order_and_a_bad_one_never_rejects_the_good_ones(
    post, api_key, business
):
    post(order(2), api_key, url="/api/v1/orders")
    response = post({"orders": [order(1), order(2), order(3, amount="lots"), order(4, phone="12")]}, api_key)

    assert response.status_code == 200
    first, second, third, fourth = response.json()["results"]
    one, two = (Order.objects.get(business=business, external_id=f"B-{n}") for n in (1, 2))
    assert first == {
        "status": 201,
        "order_id": one.pk,
        "customer_id": one.customer_id,
        "customer_created": True,
        "blocked": False,
    }
    assert second == {
        "status": 200,
        "order_id": two.pk,
        "customer_id": two.customer_id,
        "customer_created": True,
        "blocked": False,
    }
    assert third == {
        "status": 400,
        "errors": {"amount": ["Enter a number written with the digits 0-9, e.g. 42.50."]},
    }
    assert fourth["status"] == 400 and list(fourth["errors"]) == ["phone"]
    assert Order.objects.filter(business=business).count() == 2
    assert jsonschema_rs.Draft202012Validator(responses.BATCH_RESULTS).is_valid(response.json())


def test_an_external_id_twice_in_a_batch_is_recorded_once_and_answered_as_if_sent_after(
    post, api_key, business
):
    response = post({"orders": [order(1), order(1, amount="99.00"), order(2)]}, api_key)

    first, again, other = response.json()["results"]
    assert (first["status"], again["status"], other["status"]) == (201, 200, 201)
    assert {**first, "status": 200} == again
    recorded = Order.objects.get(business=business, external_id="B-1")
    assert str(recorded.amount) == "42.50" and recorded.customer.order_count == 1


def test_the_first_valid_order_of_an_external_id_is_the_one_recorded(post, api_key, business):
    response = post({"orders": [order(1, amount="-1"), order(1, amount="7.00")]}, api_key)

    assert [result["status"] for result in response.json()["results"]] == [400, 201]
    assert str(Order.objects.get(business=business, external_id="B-1").amount) == "7.00"


def test_orders_refused_when_written_get_their_400_and_the_others_land(post, api_key, business):
    post(
        order(9, payments=[{"transaction_id": "tx-9", "amount": "42.50", "method": "card"}]),
        api_key,
        "/api/v1/orders",
    )
    customer = Customer.objects.create(business=business, phone="+14155551001")
    for number in range(10):
        Dropoff.objects.create(
            business=business, customer=customer, street=f"{number} Elm St", address_key=f"{number}|elm"
        )
    payment = {"amount": "42.50", "method": "card"}
    response = post(
        {
            "orders": [
                order(1),  # the 11th address of that customer
                order(2, payments=[{**payment, "transaction_id": "tx-9"}]),  # another order's
                order(3, payments=[{**payment, "transaction_id": "tx-3"}]),
                order(4, payments=[{**payment, "transaction_id": "tx-3"}]),  # taken just before
                order(5),
            ]
        },
        api_key,
    )

    results = response.json()["results"]
    assert [result["status"] for result in results] == [400, 400, 201, 400, 201]
    assert results[0]["errors"] == {"address": ["ADDRESS_LIMIT_EXCEEDED: Too many addresses (max 10)."]}
    assert results[1]["errors"] == {
        "payments": ["Transaction id “tx-9” is recorded already, for another order."]
    }
    assert results[3]["errors"] == {
        "payments": ["Transaction id “tx-3” is recorded already, for another order."]
    }
    assert sorted(Order.objects.filter(business=business).values_list("external_id", flat=True)) == [
        "B-3",
        "B-5",
        "B-9",
    ]
    assert Payment.objects.get(transaction_id="tx-3").order.external_id == "B-3"
    assert not Customer.objects.filter(business=business, phone__in=["+14155551002", "+14155551004"]).exists()


def test_a_blacklisted_customers_order_is_recorded_blocked(post, api_key, business, owner):
    customer = Customer.objects.create(business=business, phone="+14155551001")
    services.blacklist_customer(customer=customer, reason="fraud", note="", actor=owner)

    [result] = post({"orders": [order(1)]}, api_key).json()["results"]

    assert result["status"] == 201 and result["blocked"] and not result["customer_created"]
    assert Order.objects.get(pk=result["order_id"]).status == Order.Status.BLOCKED
    customer.refresh_from_db()
    assert customer.order_count == 0


@pytest.mark.parametrize(
    "payload",
    [{"orders": []}, {"orders": [order(1)] * 1001}, {"orders": [order(1), "B-2"]}, {"orders": order(1)}, {}],
)
def test_a_body_that_is_not_a_list_of_1_to_1000_orders_is_refused_as_a_whole(
    post, api_key, business, payload
):
    response = post(payload, api_key)

    assert response.status_code == 400 and "errors" in response.json()
    assert not Order.objects.exists()


def test_a_batch_of_1000_orders_is_recorded(post, api_key, business):
    response = post({"orders": [order(number) for number in range(1000)]}, api_key)

    assert response.status_code == 200
    assert [result["status"] for result in response.json()["results"]] == [201] * 1000
    assert (
        Order.objects.filter(business=business).count()
        == Customer.objects.filter(business=business).count()
        == 1000
    )


def test_a_body_over_8_mb_answers_413_and_one_over_the_single_orders_1_mb_is_read(post, api_key, business):
    padded = [order(number, note="x" * 1000) for number in range(1000)]
    body = json.dumps({"orders": padded})
    assert 1024 * 1024 < len(body) < 8 * 1024 * 1024

    assert post(body, api_key).status_code == 200
    over = json.dumps({"orders": [order(1)], "padding": " " * (8 * 1024 * 1024)})
    response = post(over, api_key)
    assert response.status_code == 413
    assert response.json() == {"errors": {"body": ["The request body is over 8 MB."]}}


def test_a_key_without_the_orders_write_scope_answers_403_and_no_key_401(post, client, business):
    _, reader = services.create_api_key(
        business=business, name="Reader", actor=None, scopes=["customers:read"]
    )

    forbidden = post({"orders": [order(1)]}, reader)
    anonymous = client.post(URL, json.dumps({"orders": [order(1)]}), content_type="application/json")

    assert forbidden.status_code == 403
    assert forbidden.json() == {"errors": {"scope": ["This API key lacks the scope “orders:write”."]}}
    assert anonymous.status_code == 401
    assert not Order.objects.exists()


def test_orders_of_one_business_never_touch_another_businesss_customer_of_the_same_phone(
    post, api_key, business, other_business
):
    theirs = Customer.objects.create(business=other_business, phone="+14155551001", first_name="Theirs")
    _, their_key = services.create_api_key(business=other_business, name="Theirs", actor=None)
    post({"orders": [order(1, phone="+1 415 555 1001")]}, their_key)
    theirs.refresh_from_db()
    before = (theirs.order_count, theirs.total_spent, theirs.first_name, theirs.email)

    [result] = post({"orders": [order(1, phone="+1 415 555 1001")]}, api_key).json()["results"]

    ours = Customer.objects.get(pk=result["customer_id"])
    assert result["status"] == 201 and result["customer_created"]
    assert ours.business == business and ours.pk != theirs.pk
    theirs.refresh_from_db()
    assert (theirs.order_count, theirs.total_spent, theirs.first_name, theirs.email) == before
    assert Order.objects.get(pk=result["order_id"]).business == business


def batch_of(first, count):
    """Orders with a payment and an opt-in each; every other one of a phone known before."""
    return [
        order(
            first + index,
            phone=f"+1 415 555 {2000 + index:04d}" if index % 2 else f"+1 415 555 {5000 + first + index:04d}",
            payments=[{"transaction_id": f"tx-{first + index}", "amount": "42.50", "method": "card"}],
            email_opt_in=True,
        )
        for index in range(count)
    ]


def test_the_queries_of_a_batch_do_not_grow_with_its_orders(post, api_key, business):
    services.create_endpoint(
        business=business, url="https://hooks.example/x", events=["*"], secret="s", actor=None
    )
    known = [order(number, phone=f"+1 415 555 {2000 + number:04d}") for number in range(100)]
    post({"orders": known}, api_key)
    counts = []
    for first, count in [(1000, 10), (3000, 100)]:
        with CaptureQueriesContext(connection) as queries:
            response = post({"orders": batch_of(first, count)}, api_key)
        assert [result["status"] for result in response.json()["results"]] == [201] * count
        counts.append(len(queries))

    # A fixed number per kind of row written; a tier move adds loyalty's fixed ~18.
    assert max(counts) <= 75, counts
