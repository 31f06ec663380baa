"""The order ingestion API: POST /api/v1/orders, as partner apps call it."""

import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from customers import services
from customers.models import ApiKey, BlacklistEntry, Customer, Dropoff, Order

URL = "/api/v1/orders"
ONE_MB = 1024 * 1024


def valid_order(**changes):
    order = {
        "external_id": "A-1001",
        "phone": "+1 415 555 0101",
        "first_name": "Ann",
        "last_name": "Lee",
        "email": "ann@example.com",
        "amount": "42.50",
        "currency": "USD",
        "placed_at": "2026-11-01T12:00:00Z",
        "status": "completed",
        "source": "doordash",
        "address": {
            "street": "1 Main St",
            "city": "Springfield",
            "postal_code": "12345",
            "country": "US",
            "lat": 39.78,
            "lng": -89.65,
        },
        "items": [{"sku": "P1", "name": "Pizza", "category": "food", "quantity": 2, "price": "21.25"}],
    }
    order.update(changes)
    return {name: value for name, value in order.items() if value is not ...}


@pytest.fixture
def api_key(business):
    _, secret = services.create_api_key(business=business, name="Partner app", actor=None)
    return secret


@pytest.fixture
def post(client):
    def send(payload, key=None, **extra):
        body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return client.post(URL, body, content_type="application/json", headers=headers, **extra)

    return send


def test_a_new_order_answers_201_and_sending_it_again_answers_200_with_the_same_body(post, api_key, business):
    first = post(valid_order(), api_key)
    again = post(valid_order(), api_key)

    assert first.status_code == 201
    assert again.status_code == 200
    assert first.json() == again.json()
    order = Order.objects.get(business=business, external_id="A-1001")
    assert first.json() == {
        "order_id": order.pk,
        "customer_id": order.customer_id,
        "customer_created": True,
        "blocked": False,
        "payment_ids": [],
        "cod_unverified": False,
    }
    assert Order.objects.count() == 1


def test_a_repeat_that_differs_leaves_nothing_of_itself(post, api_key, business):
    first = post(valid_order(), api_key)
    again = post(valid_order(phone="+1 212 555 0147", address={"street": "9 Elm St"}, amount="1.00"), api_key)

    assert again.status_code == 200 and again.json() == first.json()
    assert list(Customer.objects.values_list("phone", flat=True)) == ["+14155550101"]
    assert Dropoff.objects.count() == 1 and Order.objects.get().amount == Decimal("42.50")


def test_a_second_order_of_a_known_phone_does_not_create_a_customer(post, api_key):
    first = post(valid_order(), api_key).json()
    second = post(valid_order(external_id="A-1002", phone="(415) 555-0101"), api_key).json()

    assert second["customer_id"] == first["customer_id"]
    assert second["customer_created"] is False
    assert Customer.objects.count() == 1


def test_the_order_is_stored_with_its_customer_address_and_items(post, api_key, business):
    post(valid_order(), api_key)

    order = Order.objects.get(business=business, external_id="A-1001")
    assert order.amount == Decimal("42.50")
    assert order.currency == "USD"
    assert order.status == Order.Status.COMPLETED
    assert order.source == "doordash"
    assert order.placed_at == dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
    customer = order.customer
    assert (customer.phone, customer.first_name, customer.last_name, customer.email) == (
        "+14155550101",
        "Ann",
        "Lee",
        "ann@example.com",
    )
    assert customer.order_count == 1 and customer.total_spent == Decimal("42.50")
    assert order.dropoff.street == "1 Main St" and order.dropoff.city == "Springfield"
    assert (order.dropoff.lat, order.dropoff.lng) == (Decimal("39.78"), Decimal("-89.65"))
    item = order.items.get()
    assert (item.sku, item.name, item.category, item.quantity, item.price) == (
        "P1",
        "Pizza",
        "food",
        2,
        Decimal("21.25"),
    )


def test_only_the_required_fields_are_enough(post, api_key, business):
    response = post({"external_id": "A-1", "phone": "4155550101", "amount": 10}, api_key)

    assert response.status_code == 201
    order = Order.objects.get(business=business, external_id="A-1")
    assert order.status == Order.Status.COMPLETED
    assert order.currency == business.currency
    assert order.amount == Decimal("10.00")
    assert order.dropoff is None and not order.items.exists()


def test_a_numeric_amount_and_a_timestamp_without_offset_are_accepted(post, api_key, business):
    response = post(valid_order(amount=42.5, placed_at="2026-11-01T12:00:00"), api_key)

    assert response.status_code == 201
    order = Order.objects.get(business=business)
    assert order.amount == Decimal("42.50")
    assert order.placed_at == dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)


def test_coordinates_with_more_decimals_than_stored_are_rounded(post, api_key, business):
    address = {"street": "1 Main St", "lat": 39.781721399, "lng": -89.650148}
    assert post(valid_order(address=address), api_key).status_code == 201

    dropoff = Dropoff.objects.get(business=business)
    assert (dropoff.lat, dropoff.lng) == (Decimal("39.781721"), Decimal("-89.650148"))


def test_unknown_fields_are_ignored(post, api_key, business):
    payload = valid_order(loyalty_card="X-9", nested={"deep": [1, 2]})
    payload["address"]["door_code"] = "1234"
    payload["items"][0]["gift_wrap"] = True

    assert post(payload, api_key).status_code == 201
    assert Order.objects.filter(business=business, external_id="A-1001").exists()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not-a-key"},
        {"Authorization": "Bearer deadbeef.wrong-secret"},
    ],
    ids=["no header", "empty", "bearer without key", "bearer blank", "basic", "garbage", "wrong secret"],
)
def test_a_request_without_a_valid_key_answers_401_and_records_nothing(client, headers, api_key):
    response = client.post(URL, json.dumps(valid_order()), content_type="application/json", headers=headers)

    assert response.status_code == 401
    assert list(response.json()["errors"]) == ["authorization"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Order.objects.exists()


def test_a_right_prefix_with_a_wrong_secret_answers_401(post, api_key):
    prefix = api_key.split(".")[0]

    assert post(valid_order(), f"{prefix}.not-the-secret").status_code == 401


def test_a_revoked_key_answers_401(post, api_key, business):
    services.revoke_api_key(api_key=ApiKey.objects.get(business=business), actor=None)

    response = post(valid_order(), api_key)

    assert response.status_code == 401
    assert response.json()["errors"]["authorization"]
    assert not Order.objects.exists()


def test_a_staff_session_is_not_an_api_key(client_for, owner):
    client = client_for(owner)

    response = client.post(URL, json.dumps(valid_order()), content_type="application/json")

    assert response.status_code == 401
    assert not Order.objects.exists()


def test_the_scheme_name_is_case_insensitive(client, api_key):
    headers = {"Authorization": f"bearer {api_key}"}

    response = client.post(URL, json.dumps(valid_order()), content_type="application/json", headers=headers)

    assert response.status_code == 201


def test_using_a_key_records_when_it_was_last_used_at_most_once_a_minute(post, api_key, business):
    key = ApiKey.objects.get(business=business)
    assert key.last_used_at is None

    post(valid_order(), api_key)
    key.refresh_from_db()
    first_use = key.last_used_at
    post(valid_order(external_id="A-2"), api_key)
    key.refresh_from_db()
    assert first_use is not None and key.last_used_at == first_use

    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first_use - dt.timedelta(minutes=2))
    post(valid_order(external_id="A-3"), api_key)
    key.refresh_from_db()
    assert key.last_used_at > first_use


def test_a_body_over_1_mb_answers_413(post, api_key):
    payload = valid_order(padding="x" * ONE_MB)

    response = post(payload, api_key)

    assert response.status_code == 413
    assert response.json()["errors"]["body"]
    assert not Order.objects.exists()


def test_a_body_of_exactly_1_mb_is_read(post, api_key):
    body = json.dumps(valid_order(padding=""))
    body = body[:-1] + " " * (ONE_MB - len(body)) + "}"
    assert len(body) == ONE_MB

    assert post(body, api_key).status_code == 201


def test_a_declared_length_over_1_mb_is_refused_without_reading_the_body(post, api_key):
    response = post(valid_order(), api_key, CONTENT_LENGTH=str(ONE_MB + 1))

    assert response.status_code == 413
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "body",
    [b"{", b"", b"not json", b'{"external_id": "A-1",}', b"\xff\xfe\xfa", b"[" * 100_000 + b"]" * 100_000],
    ids=["unterminated", "empty", "text", "trailing comma", "not utf-8", "deeply nested"],
)
def test_a_body_that_is_not_json_answers_400(post, api_key, body):
    response = post(body, api_key)

    assert response.status_code == 400
    assert response.json()["errors"]["body"]


@pytest.mark.parametrize("payload", [[valid_order()], "A-1001", 42, None, True])
def test_a_body_that_is_not_an_object_answers_400(post, api_key, payload):
    response = post(json.dumps(payload), api_key)

    assert response.status_code == 400
    assert response.json()["errors"]["body"]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"external_id": ...}, "external_id"),
        ({"phone": ...}, "phone"),
        ({"amount": ...}, "amount"),
        ({"external_id": ""}, "external_id"),
        ({"external_id": None}, "external_id"),
        ({"external_id": 1001}, "external_id"),
        ({"external_id": "x" * 101}, "external_id"),
        ({"phone": "12"}, "phone"),
        ({"phone": "abc"}, "phone"),
        ({"phone": 4155550101}, "phone"),
        ({"phone": ["+14155550101"]}, "phone"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "1.234"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": {"value": "1"}}, "amount"),
        ({"amount": "1" * 20}, "amount"),
        ({"first_name": ["Ann"]}, "first_name"),
        ({"first_name": "A\x00nn"}, "first_name"),
        ({"email": "not-an-email"}, "email"),
        ({"currency": "dollars"}, "currency"),
        ({"currency": "U$"}, "currency"),
        ({"placed_at": "yesterday"}, "placed_at"),
        ({"placed_at": "11/01/2026"}, "placed_at"),
        ({"placed_at": "2026-13-01T00:00:00Z"}, "placed_at"),
        ({"placed_at": 1793534400}, "placed_at"),
        ({"status": "blocked"}, "status"),
        ({"status": "shipped"}, "status"),
        ({"status": ["completed"]}, "status"),
        ({"source": {"name": "doordash"}}, "source"),
        ({"address": "1 Main St, Springfield"}, "address"),
        ({"address": ["1 Main St"]}, "address"),
        ({"address": {"city": "Springfield"}}, "address"),
        ({"address": {"street": "1 Main St", "country": "USA"}}, "address"),
        ({"address": {"street": "1 Main St", "lat": 200}}, "address"),
        ({"address": {"street": "1 Main St", "lng": "east"}}, "address"),
        ({"address": {"street": 1}}, "address"),
        ({"items": "pizza"}, "items"),
        ({"items": {"name": "Pizza"}}, "items"),
        ({"items": [1, 2]}, "items"),
        ({"items": [{"name": "Pizza", "quantity": 0, "price": "1"}]}, "items"),
        ({"items": [{"name": "Pizza", "quantity": 1.5, "price": "1"}]}, "items"),
        ({"items": [{"name": "Pizza", "quantity": "two", "price": "1"}]}, "items"),
        ({"items": [{"name": "Pizza", "quantity": 10**12, "price": "1"}]}, "items"),
        ({"items": [{"name": "Pizza", "quantity": 1}]}, "items"),
        ({"items": [{"name": "Pizza", "quantity": 1, "price": "cheap"}]}, "items"),
        ({"items": [{"quantity": 1, "price": "1"}]}, "items"),
        ({"items": [{"name": "Pizza", "quantity": 1, "price": "1"}] * 501}, "items"),
    ],
)
def test_bad_input_answers_400_naming_the_field(post, api_key, changes, field):
    response = post(valid_order(**changes), api_key)

    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert list(errors) == [field]
    assert errors[field] and all(isinstance(message, str) for message in errors[field])
    assert not Order.objects.exists() and not Customer.objects.exists()


def test_several_bad_fields_are_all_reported(post, api_key):
    response = post(valid_order(external_id=..., amount="abc", placed_at="yesterday"), api_key)

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"external_id", "amount", "placed_at"}


def test_an_item_error_says_which_item_and_which_field(post, api_key):
    items = [
        {"name": "Pizza", "quantity": 1, "price": "1"},
        {"name": "Soda", "quantity": 0, "price": "1"},
    ]

    errors = post(valid_order(items=items), api_key).json()["errors"]

    assert errors["items"] == ["Entry 2: quantity: Ensure this value is greater than or equal to 1."]


def test_an_invalid_phone_answers_400_with_the_services_message(post, api_key):
    errors = post(valid_order(phone="12"), api_key).json()["errors"]

    assert errors == {"phone": ["“12” is not a valid phone number for US."]}


def test_an_eleventh_address_answers_400_on_address(post, api_key, business):
    for number in range(Dropoff.MAX_PER_CUSTOMER):
        address = {"street": f"{number + 1} Main St"}
        assert post(valid_order(external_id=f"A-{number}", address=address), api_key).status_code == 201

    response = post(valid_order(external_id="A-11", address={"street": "99 Elm St"}), api_key)

    assert response.status_code == 400
    assert "ADDRESS_LIMIT_EXCEEDED" in response.json()["errors"]["address"][0]
    assert not Order.objects.filter(external_id="A-11").exists()


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_than_post_answer_405(client, api_key, method):
    response = getattr(client, method)(URL, headers={"Authorization": f"Bearer {api_key}"})

    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_a_blacklisted_customers_order_answers_blocked(post, api_key, business):
    customer, _ = services.get_or_create_customer(business=business, phone="+14155550101")
    services.blacklist_customer(customer=customer, reason=BlacklistEntry.Reason.FRAUD, actor=None)

    response = post(valid_order(), api_key)

    assert response.status_code == 201
    assert response.json()["blocked"] is True
    assert Order.objects.get().status == Order.Status.BLOCKED


def test_responses_are_never_cached(post, api_key):
    assert post(valid_order(), api_key)["Cache-Control"] == "no-store"
    assert post(valid_order(amount="abc"), api_key)["Cache-Control"] == "no-store"
    assert post(valid_order(), "wrong")["Cache-Control"] == "no-store"


def test_a_key_of_another_business_records_only_in_that_business(post, api_key, business, other_business):
    _, other_key = services.create_api_key(business=other_business, name="Other partner", actor=None)
    mine = post(valid_order(), api_key).json()

    theirs = post(valid_order(amount="99.00"), other_key)

    assert theirs.status_code == 201
    assert theirs.json()["order_id"] != mine["order_id"]
    assert theirs.json()["customer_id"] != mine["customer_id"]
    assert theirs.json()["customer_created"] is True
    other_order = Order.objects.get(pk=theirs.json()["order_id"])
    assert other_order.business == other_business and other_order.customer.business == other_business
    my_order = Order.objects.get(pk=mine["order_id"])
    assert my_order.business == business and my_order.amount == Decimal("42.50")
    assert my_order.customer.order_count == 1 and my_order.customer.total_spent == Decimal("42.50")


def test_the_create_api_key_command_prints_a_working_key(post, business):
    out = StringIO()

    call_command("create_api_key", business.slug, "--name", "Storefront", stdout=out)

    secret = out.getvalue().strip().splitlines()[-1]
    api_key = ApiKey.objects.get(business=business)
    assert api_key.name == "Storefront"
    assert secret not in api_key.hashed_secret
    assert post(valid_order(), secret).status_code == 201


def test_the_create_api_key_command_refuses_an_unknown_business(db):
    with pytest.raises(CommandError, match="nope"):
        call_command("create_api_key", "nope", stdout=StringIO())
    assert not ApiKey.objects.exists()
