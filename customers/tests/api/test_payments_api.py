"""Payments and refunds through the API: in an order's body, POST orders/{id}/payments,
POST payments/{id}/refunds and GET orders/{id}."""

import json

import pytest

from customers import services
from customers.models import Order, Payment, Refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_key(business):
    return services.create_api_key(business=business, name="Partner app", actor=None)[1]


@pytest.fixture
def other_key(other_business):
    return services.create_api_key(business=other_business, name="Other", actor=None)[1]


@pytest.fixture
def call(client, api_key):
    def send(method, url, payload=None, key=api_key):
        headers = {"Authorization": f"Bearer {key}"}
        if method == "get":
            return client.get(url, headers=headers)
        return client.post(url, json.dumps(payload), content_type="application/json", headers=headers)

    return send


def payment(transaction_id="ch_1", amount="42.50", **changes):
    return {
        "transaction_id": transaction_id,
        "amount": amount,
        "currency": "USD",
        "method": "card",
        "status": "succeeded",
        "provider": "stripe",
        "processed_at": "2026-11-01T12:00:05Z",
        **changes,
    }


def order_body(external_id="A-1001", payments=(), **changes):
    return {
        "external_id": external_id,
        "phone": "+1 415 555 0101",
        "first_name": "Ann",
        "amount": "42.50",
        "currency": "USD",
        "placed_at": "2026-11-01T12:00:00Z",
        "items": [{"sku": "P1", "name": "Pizza", "quantity": 2, "price": "21.25"}],
        "payments": list(payments),
        **changes,
    }


def test_an_order_with_payments_answers_their_ids_in_the_order_given(call):
    body = order_body(payments=[payment("ch_2", "42.50", status="failed"), payment("ch_1")])

    created = call("post", "/api/v1/orders", body)
    again = call("post", "/api/v1/orders", body)

    assert created.status_code == 201, created.json()
    ids = created.json()["payment_ids"]
    assert [Payment.objects.get(pk=pk).transaction_id for pk in ids] == ["ch_2", "ch_1"]
    assert created.json()["cod_unverified"] is False
    assert again.status_code == 200 and again.json() == created.json()


def test_cash_on_delivery_from_an_unverified_phone_is_flagged_until_support_verifies_it(call, support):
    cod = payment("cod_1", method="cash_on_delivery", status="pending", provider="")
    answer = call("post", "/api/v1/orders", order_body(payments=[cod])).json()
    assert answer["cod_unverified"] is True

    order = Order.objects.get()
    services.mark_phone_verified(customer=order.customer, actor=support)
    again = call(
        "post",
        "/api/v1/orders",
        order_body(
            external_id="A-1002", payments=[payment("cod_2", method="cash_on_delivery", status="pending")]
        ),
    )
    assert again.json()["cod_unverified"] is False
    assert call("get", f"/api/v1/orders/{order.pk}").json()["cod_unverified"] is False


@pytest.mark.parametrize(
    "payments, field_message",
    [
        ([payment(), payment()], "given more than once"),
        ([payment(method="bitcoin")], "method"),
        ([payment(status="refunded")], "status"),
        ([payment(amount="0")], "amount"),
        ([payment(amount="1.001")], "amount"),
        ([payment(transaction_id=7)], "transaction_id"),
        ("ch_1", "list"),
        ([payment(processed_at="yesterday")], "processed_at"),
    ],
)
def test_bad_payments_in_an_order_are_400s_and_record_nothing(call, payments, field_message):
    response = call("post", "/api/v1/orders", order_body(payments=payments) | {"payments": payments})

    assert response.status_code == 400
    assert field_message in " ".join(response.json()["errors"]["payments"])
    assert not Order.objects.exists()


def test_a_transaction_id_of_another_order_is_a_400(call):
    call("post", "/api/v1/orders", order_body(payments=[payment()]))

    response = call("post", "/api/v1/orders", order_body(external_id="B-1", payments=[payment()]))

    assert response.status_code == 400
    assert "ch_1" in response.json()["errors"]["payments"][0]
    assert Order.objects.count() == 1


def test_a_payment_is_added_once_per_transaction_id(call):
    order_id = call("post", "/api/v1/orders", order_body()).json()["order_id"]
    url = f"/api/v1/orders/{order_id}/payments"

    created = call("post", url, payment())
    again = call("post", url, payment())

    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["payment_id"] == Payment.objects.get().pk
    assert body | {"payment_id": None} == {
        "payment_id": None,
        "id": body["payment_id"],
        "order_id": order_id,
        "transaction_id": "ch_1",
        "amount": "42.50",
        "currency": "USD",
        "method": "card",
        "status": "succeeded",
        "provider": "stripe",
        "processed_at": "2026-11-01T12:00:05+00:00",
        "refunded": "0.00",
        "cod_unverified": False,
    }
    assert again.status_code == 200 and again.json() == body
    assert call("post", url, {"amount": "x"}).status_code == 400


def test_refunds_answer_the_payment_and_the_order_and_stop_at_the_paid_amount(call):
    call("post", "/api/v1/orders", order_body(payments=[payment()]))
    order, pay = Order.objects.get(), Payment.objects.get()
    url = f"/api/v1/payments/{pay.pk}/refunds"

    half = call("post", url, {"amount": "20.00", "reason": "Cold pizza"})
    assert half.status_code == 201, half.json()
    assert half.json() == {
        "refund_id": Refund.objects.get().pk,
        "payment": {"id": pay.pk, "status": "partially_refunded", "amount": "42.50", "refunded": "20.00"},
        "order": {
            "id": order.pk,
            "status": "completed",
            "paid": "42.50",
            "refunded": "20.00",
            "outstanding": "0.00",
        },
    }

    too_much = call("post", url, {"amount": "22.51", "reason": "More"})
    assert too_much.status_code == 400 and "22.50" in too_much.json()["errors"]["amount"][0]
    assert call("post", url, {"amount": "abc"}).status_code == 400
    assert call("post", url, ["x"]).status_code == 400

    rest = call("post", url, {"amount": "22.50"})
    assert rest.status_code == 201
    assert rest.json()["payment"]["status"] == "refunded"
    assert rest.json()["order"] == {
        "id": order.pk,
        "status": "refunded",
        "paid": "42.50",
        "refunded": "42.50",
        "outstanding": "0.00",
    }
    assert call("post", url, {"amount": "0.01"}).status_code == 400


def test_an_order_reads_with_its_items_payments_and_refunds(call, django_assert_max_num_queries):
    cod = payment("cod_1", amount="10.00", method="cash_on_delivery", status="pending", provider="")
    call("post", "/api/v1/orders", order_body(payments=[payment("ch_1", "30.00"), cod]))
    order, card = Order.objects.get(), Payment.objects.get(transaction_id="ch_1")
    call("post", f"/api/v1/payments/{card.pk}/refunds", {"amount": "5.00", "reason": "Late"})

    with django_assert_max_num_queries(6):
        response = call("get", f"/api/v1/orders/{order.pk}")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["external_id"], body["status"]) == (order.pk, "A-1001", "completed")
    assert (body["paid"], body["refunded"], body["outstanding"]) == ("30.00", "5.00", "12.50")
    assert body["cod_unverified"] is True
    assert body["items"] == [{"sku": "P1", "name": "Pizza", "category": "", "quantity": 2, "price": "21.25"}]
    assert [p["transaction_id"] for p in body["payments"]] == ["ch_1", "cod_1"]
    [refund] = body["payments"][0]["refunds"]
    assert (refund["amount"], refund["reason"], refund["source"]) == ("5.00", "Late", "api")
    assert body["payments"][1]["refunds"] == []


def test_another_businesss_order_and_payment_are_404s(call, other_key):
    call("post", "/api/v1/orders", order_body(payments=[payment()]))
    order, pay = Order.objects.get(), Payment.objects.get()

    assert call("get", f"/api/v1/orders/{order.pk}", key=other_key).status_code == 404
    assert call("post", f"/api/v1/orders/{order.pk}/payments", payment("x"), key=other_key).status_code == 404
    refund = call("post", f"/api/v1/payments/{pay.pk}/refunds", {"amount": "1.00"}, key=other_key)
    assert refund.status_code == 404
    assert not Refund.objects.exists() and Payment.objects.count() == 1
    assert call("get", f"/api/v1/orders/{order.pk}", key="nope").status_code == 401
