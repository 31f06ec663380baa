"""The customers endpoints of the API: create by phone, list, profile, contact changes,
a customer's orders and address book."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import requires_postgres
from customers import services
from customers.models import Activity, Customer, Dropoff

URL = "/api/v1/customers"


@pytest.fixture
def api(client):
    def call(method, path, key, payload=None):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        if method == "get":
            return client.get(path, headers=headers)
        body = "" if payload is None else json.dumps(payload)
        return getattr(client, method)(path, body, content_type="application/json", headers=headers)

    return call


@pytest.fixture
def key(business):
    return services.create_api_key(business=business, name="Storefront", actor=None)[1]


@pytest.fixture
def read_key(business):
    return services.create_api_key(business=business, name="Reader", actor=None, scopes=["customers:read"])[1]


@pytest.fixture
def other_key(other_business):
    return services.create_api_key(business=other_business, name="Other", actor=None)[1]


@pytest.fixture
def ann(business):
    return services.record_order(
        business=business,
        external_id="A-1",
        phone="+14155550101",
        first_name="Ann",
        last_name="Lee",
        email="ann@example.com",
        amount="30.00",
        address={"street": "1 Main St", "city": "Springfield", "country": "US"},
    ).order.customer


def noon(year, month):
    return dt.datetime(year, month, 1, 12, tzinfo=dt.UTC)


def customer_named(business, phone, name):
    return services.get_or_create_customer(business=business, phone=phone, first_name=name)[0]


# POST customers ---------------------------------------------------------------------------


def test_a_new_phone_creates_the_customer_with_201(api, key, business):
    response = api(
        "post",
        URL,
        key,
        {"phone": "(415) 555-0199", "first_name": "Zoe", "email": "zoe@example.com", "language": "fr"},
    )

    assert response.status_code == 201
    customer = Customer.objects.get(business=business, phone="+14155550199")
    body = response.json()
    assert body["id"] == customer.pk
    assert (body["phone"], body["first_name"], body["email"], body["language"]) == (
        "+14155550199",
        "Zoe",
        "zoe@example.com",
        "fr",
    )
    assert (body["tier"], body["points_balance"], body["total_spent"], body["tags"]) == (
        "BRONZE",
        0,
        "0.00",
        [],
    )
    assert customer.activities.filter(kind=Activity.Kind.CREATED).exists()


def test_a_known_phone_answers_200_with_that_customer_unchanged(api, key, ann):
    response = api("post", URL, key, {"phone": "+1 415 555 0101", "first_name": "Someone else"})

    assert response.status_code == 200
    assert response.json()["id"] == ann.pk
    assert response.json()["first_name"] == "Ann"
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"phone": "not a phone"}, "phone"),
        ({"phone": "+1 415 555 0199", "email": "not-an-email"}, "email"),
        ({"first_name": "No phone"}, "phone"),
        ({"phone": "+1 415 555 0199", "language": "klingon"}, "language"),
        ({"phone": "+1 415 555 0199", "date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"phone": 4155550199}, "phone"),
    ],
)
def test_bad_input_answers_400_naming_the_field(api, key, payload, field):
    response = api("post", URL, key, payload)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Customer.objects.exists()


def test_writing_needs_the_write_scope(api, read_key):
    response = api("post", URL, read_key, {"phone": "+14155550199"})

    assert response.status_code == 403
    assert "customers:write" in response.json()["errors"]["scope"][0]
    assert not Customer.objects.exists()


def test_without_a_key_every_endpoint_answers_401(api, ann):
    dropoff = ann.dropoffs.get()
    for method, path in [
        ("get", URL),
        ("post", URL),
        ("get", f"{URL}/{ann.pk}"),
        ("put", f"{URL}/{ann.pk}"),
        ("delete", f"{URL}/{ann.pk}"),
        ("get", f"{URL}/{ann.pk}/orders"),
        ("get", f"{URL}/{ann.pk}/addresses"),
        ("post", f"{URL}/{ann.pk}/addresses"),
        ("put", f"{URL}/{ann.pk}/addresses/{dropoff.pk}"),
        ("delete", f"{URL}/{ann.pk}/addresses/{dropoff.pk}"),
    ]:
        assert api(method, path, None, {}).status_code == 401, (method, path)


def test_other_methods_answer_405_naming_the_allowed_ones(api, key, ann):
    dropoff = ann.dropoffs.get()
    for path, allowed in [
        (URL, "GET, POST"),
        (f"{URL}/{ann.pk}", "GET, PUT, DELETE"),
        (f"{URL}/{ann.pk}/orders", "GET"),
        (f"{URL}/{ann.pk}/addresses", "GET, POST"),
        (f"{URL}/{ann.pk}/addresses/{dropoff.pk}", "PUT, DELETE"),
    ]:
        response = api("patch", path, key, {})
        assert response.status_code == 405, path
        assert response["Allow"] == allowed


# GET customers -----------------------------------------------------------------------------


def ids_of(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def all_pages(api, key, query=""):
    """Every page's ids, following `next`, and the number of pages."""
    ids, pages, cursor = [], 0, None
    while True:
        separator = "&" if query else ""
        path = f"{URL}?{query}" + (f"{separator}cursor={cursor}" if cursor else "")
        response = api("get", path, key)
        ids += ids_of(response)
        pages += 1
        cursor = response.json()["next"]
        if cursor is None:
            return ids, pages


def test_the_list_pages_through_every_customer_of_the_business_once(api, key, business, other_business):
    mine = [customer_named(business, f"+1415555{n:04d}", f"C{n}").pk for n in range(7)]
    customer_named(other_business, "+442079460018", "Theirs")

    ids, pages = all_pages(api, key, "limit=3")

    assert ids == mine
    assert pages == 3


def test_customers_created_between_page_fetches_are_neither_skipped_nor_repeated(api, key, business):
    first = [customer_named(business, f"+1415555{n:04d}", "Early").pk for n in range(5)]

    page = api("get", f"{URL}?limit=2", key).json()
    seen = [row["id"] for row in page["results"]]
    added = []
    while page["next"]:
        added.append(customer_named(business, f"+1415556{len(added):04d}", "Late").pk)
        page = api("get", f"{URL}?limit=2&cursor={page['next']}", key).json()
        seen += [row["id"] for row in page["results"]]

    assert len(seen) == len(set(seen))
    assert set(first) <= set(seen)
    assert set(seen) == set(first) | set(added)


def test_a_cursor_that_was_not_given_by_the_api_answers_400(api, key):
    response = api("get", f"{URL}?cursor=42", key)

    assert response.status_code == 400
    assert "cursor" in response.json()["errors"]


def test_the_list_filters_as_the_customer_list_does(api, key, business, owner, ann):
    bob = customer_named(business, "+14155550102", "Bob")
    cat = customer_named(business, "+14155550103", "Cat")
    services.update_contact(customer=cat, actor=owner, status="suspended")
    vip = services.tag_customer(customer=bob, name="VIP", actor=owner)
    Customer.objects.filter(pk=ann.pk).update(tier="GOLD")

    assert ids_of(api("get", f"{URL}?q=bob", key)) == [bob.pk]
    assert ids_of(api("get", f"{URL}?q=0101", key)) == [ann.pk]
    assert ids_of(api("get", f"{URL}?tier=GOLD", key)) == [ann.pk]
    assert ids_of(api("get", f"{URL}?status=suspended", key)) == [cat.pk]
    assert ids_of(api("get", f"{URL}?tag={vip.pk}", key)) == [bob.pk]


def test_updated_since_lists_the_customers_changed_from_then(api, key, business, owner, ann):
    bob = customer_named(business, "+14155550102", "Bob")
    Customer.objects.filter(pk__in=[ann.pk, bob.pk]).update(updated_at="2026-01-01T00:00:00Z")
    services.update_contact(customer=bob, actor=owner, last_name="Stone")

    assert ids_of(api("get", f"{URL}?updated_since=2026-06-01T00:00:00%2B00:00", key)) == [bob.pk]
    assert ids_of(api("get", f"{URL}?updated_since=2025-12-31T00:00:00Z", key)) == [ann.pk, bob.pk]


@requires_postgres
def test_customers_changed_since_a_time_are_found_by_their_index_not_by_walking_all(api, key, business):
    Customer.objects.bulk_create(Customer(business=business, phone=f"+1212{n:07d}") for n in range(10_000))
    Customer.objects.update(updated_at=noon(2025, 1))
    changed = customer_named(business, "+14155550102", "Bob")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    with CaptureQueriesContext(connection) as queries:
        assert ids_of(api("get", f"{URL}?updated_since=2026-01-01T00:00:00Z", key)) == [changed.pk]
    (listing,) = [
        query["sql"] for query in queries if "customers_customer.updated_at" in query["sql"].replace('"', "")
    ]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + listing)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "customer_live_updated_idx" in plan, plan


@pytest.mark.parametrize(
    "query, field",
    [
        ("tier=DIAMOND", "tier"),
        ("status=gone", "status"),
        ("tag=999999", "tag"),
        ("segment=999999", "segment"),
        ("updated_since=yesterday", "updated_since"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("tier=", "tier"),
        ("updated_since=", "updated_since"),
    ],
)
def test_bad_filters_answer_400_naming_them(api, key, query, field):
    response = api("get", f"{URL}?{query}", key)

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_another_business_s_tag_is_no_filter_here(api, other_key, owner, ann):
    vip = services.tag_customer(customer=ann, name="VIP", actor=owner)

    assert api("get", f"{URL}?tag={vip.pk}", other_key).status_code == 400
    assert ids_of(api("get", URL, other_key)) == []


def test_the_list_costs_the_same_queries_whatever_the_page_size(
    api, key, business, owner, django_assert_num_queries
):
    for n in range(30):
        services.tag_customer(
            customer=customer_named(business, f"+1415555{n:04d}", "C"), name="T", actor=owner
        )
    api("get", URL, key)  # the key's last use is written once a minute

    # The key, the customers, their tags, the access log.
    with django_assert_num_queries(4):
        assert len(ids_of(api("get", f"{URL}?limit=5", key))) == 5
    with django_assert_num_queries(4):
        assert len(ids_of(api("get", f"{URL}?limit=30", key))) == 30


# GET/PUT customers/{id} --------------------------------------------------------------------


def test_the_profile_has_the_stats_tier_and_points(api, key, ann):
    response = api("get", f"{URL}/{ann.pk}", key)

    assert response.status_code == 200
    body = response.json()
    ann.refresh_from_db()
    assert (body["id"], body["phone"], body["first_name"], body["last_name"]) == (
        ann.pk,
        ann.phone,
        "Ann",
        "Lee",
    )
    assert (body["order_count"], body["total_spent"], body["average_order_value"]) == (1, "30.00", "30.00")
    assert body["days_since_last_order"] == 0
    assert body["last_order_at"] == ann.last_order_at.isoformat()
    assert (body["tier"], body["points_balance"]) == ("BRONZE", ann.points_balance)
    assert ann.points_balance > 0
    # The keys the other apps add (their tests check the values).
    assert {"segments", "preferences"} <= set(body)


def test_a_customer_without_orders_has_no_average_nor_days_since(api, key, business):
    body = api("get", f"{URL}/{customer_named(business, '+14155550199', 'Zoe').pk}", key).json()

    assert (body["order_count"], body["average_order_value"], body["days_since_last_order"]) == (
        0,
        None,
        None,
    )


def test_the_profile_costs_a_fixed_number_of_queries(api, key, ann, django_assert_num_queries):
    api("get", f"{URL}/{ann.pk}", key)

    # The key, the customer, its tags, segments, preferences, the access log.
    with django_assert_num_queries(6):
        assert api("get", f"{URL}/{ann.pk}", key).status_code == 200


def test_another_business_s_customer_is_404_everywhere(api, other_key, ann):
    dropoff = ann.dropoffs.get()
    address = {"street": "2 Elm St"}
    for method, path, payload in [
        ("get", f"{URL}/{ann.pk}", None),
        ("put", f"{URL}/{ann.pk}", {"first_name": "Hacked"}),
        ("delete", f"{URL}/{ann.pk}", {"reason": "x"}),
        ("get", f"{URL}/{ann.pk}/orders", None),
        ("get", f"{URL}/{ann.pk}/addresses", None),
        ("post", f"{URL}/{ann.pk}/addresses", address),
        ("put", f"{URL}/{ann.pk}/addresses/{dropoff.pk}", address),
        ("delete", f"{URL}/{ann.pk}/addresses/{dropoff.pk}", None),
    ]:
        response = api(method, path, other_key, payload)
        assert response.status_code == 404, (method, path)
        assert "Ann" not in response.content.decode()
    ann.refresh_from_db()
    assert ann.first_name == "Ann"
    assert ann.dropoffs.get().street == "1 Main St"


def test_an_unknown_or_deleted_customer_is_404(api, key, owner, ann):
    services.delete_customer(customer=ann, actor=owner)

    assert api("get", f"{URL}/{ann.pk}", key).status_code == 404
    assert api("get", f"{URL}/{ann.pk + 1000}", key).status_code == 404
    assert api("get", f"{URL}/{2**63}", key).status_code == 404


def test_reading_needs_the_read_scope(api, business, ann):
    orders_only = services.create_api_key(
        business=business, name="Orders", actor=None, scopes=["orders:write"]
    )[1]

    response = api("get", f"{URL}/{ann.pk}", orders_only)

    assert response.status_code == 403
    assert "customers:read" in response.json()["errors"]["scope"][0]


def test_put_changes_the_fields_given_through_the_profile_s_service(api, key, ann):
    response = api(
        "put",
        f"{URL}/{ann.pk}",
        key,
        {"email": "ann.lee@example.com", "phone": "415 555 0177", "last_name": None},
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["email"], body["phone"], body["last_name"], body["first_name"]) == (
        "ann.lee@example.com",
        "+14155550177",
        "",
        "Ann",
    )
    activity = ann.activities.get(kind=Activity.Kind.CONTACT_UPDATED)
    assert activity.data["changes"] == {
        "email": ["ann@example.com", "ann.lee@example.com"],
        "phone": ["+14155550101", "+14155550177"],
        "last_name": ["Lee", ""],
    }
    assert activity.actor is None


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"status": "gone"}, "status"),
        ({"date_of_birth": "1990-02-30"}, "date_of_birth"),
        ({"first_name": ["Ann"]}, "first_name"),
    ],
)
def test_put_refuses_what_the_profile_refuses(api, key, ann, payload, field):
    response = api("put", f"{URL}/{ann.pk}", key, payload)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not ann.activities.filter(kind=Activity.Kind.CONTACT_UPDATED).exists()


def test_put_refuses_the_phone_of_another_customer(api, key, business, ann):
    customer_named(business, "+14155550102", "Bob")

    response = api("put", f"{URL}/{ann.pk}", key, {"phone": "+14155550102"})

    assert response.status_code == 400
    assert "phone" in response.json()["errors"]


def test_delete_asks_for_an_anonymization_with_the_privacy_scope(api, business, key, ann):
    customers_only = services.create_api_key(
        business=business, name="Customers", actor=None, scopes=["customers:read", "customers:write"]
    )[1]

    refused = api("delete", f"{URL}/{ann.pk}", customers_only, {"reason": "Asked by email"})
    accepted = api("delete", f"{URL}/{ann.pk}", key, {"reason": "Asked by email"})

    assert refused.status_code == 403
    assert accepted.status_code == 202
    assert accepted.json()["status"] == "requested"


# GET customers/{id}/orders -----------------------------------------------------------------


def test_the_orders_come_latest_placed_first_in_cursor_pages(api, key, business, ann, monkeypatch):
    from customers.api import customers as endpoints

    monkeypatch.setattr(endpoints, "ORDERS_PAGE_SIZE", 2)
    for n, month in enumerate([3, 5, 4, 5], start=2):
        services.record_order(
            business=business,
            external_id=f"A-{n}",
            phone=ann.phone,
            amount="5.00",
            placed_at=noon(2026, month),
        )
    services.record_order(business=business, external_id="B-1", phone="+14155550102", amount="9.00")

    first = api("get", f"{URL}/{ann.pk}/orders", key).json()
    late = services.record_order(
        business=business, external_id="A-9", phone=ann.phone, amount="5.00", placed_at=noon(2026, 1)
    ).order
    second = api("get", f"{URL}/{ann.pk}/orders?cursor={first['next']}", key).json()
    third = api("get", f"{URL}/{ann.pk}/orders?cursor={second['next']}", key).json()

    external_ids = [row["external_id"] for page in (first, second, third) for row in page["results"]]
    assert external_ids == ["A-1", "A-5", "A-3", "A-4", "A-2", late.external_id]
    assert third["next"] is None
    assert first["results"][0] == {
        "id": first["results"][0]["id"],
        "external_id": "A-1",
        "status": "completed",
        "amount": "30.00",
        "currency": "USD",
        "placed_at": first["results"][0]["placed_at"],
        "completed_at": first["results"][0]["completed_at"],
        "source": "",
        "created_at": first["results"][0]["created_at"],
    }


# Address book ------------------------------------------------------------------------------


def test_the_address_book_lists_the_customer_s_addresses(api, key, ann):
    response = api("get", f"{URL}/{ann.pk}/addresses", key)

    assert response.status_code == 200
    dropoff = ann.dropoffs.get()
    assert response.json() == {
        "results": [
            {
                "id": dropoff.pk,
                "kind": "shipping",
                "street": "1 Main St",
                "street2": "",
                "city": "Springfield",
                "state": "",
                "postal_code": "",
                "country": "US",
                "lat": None,
                "lng": None,
                "is_default": True,
                "created_at": dropoff.created_at.isoformat(),
            }
        ],
        "next": None,
    }


def test_adding_an_address_answers_201_and_the_same_again_200(api, key, ann):
    address = {"street": "9 Oak Ave", "city": "Shelbyville", "country": "us", "lat": 39.1234567, "lng": -89.5}

    created = api("post", f"{URL}/{ann.pk}/addresses", key, {**address, "kind": "billing"})
    again = api("post", f"{URL}/{ann.pk}/addresses", key, {**address, "kind": "billing"})

    assert (created.status_code, again.status_code) == (201, 200)
    assert created.json() == again.json()
    body = created.json()
    assert (body["kind"], body["country"], body["lat"], body["lng"], body["is_default"]) == (
        "billing",
        "US",
        39.123457,
        -89.5,
        True,
    )
    assert ann.dropoffs.count() == 2
    assert ann.activities.filter(kind=Activity.Kind.ADDRESS_ADDED).count() == 1


def test_a_new_default_takes_the_flag_from_the_old_one(api, key, ann):
    old = ann.dropoffs.get()

    body = api("post", f"{URL}/{ann.pk}/addresses", key, {"street": "9 Oak Ave", "is_default": True}).json()

    assert body["is_default"] is True
    old.refresh_from_db()
    assert old.is_default is False
    assert [row["id"] for row in api("get", f"{URL}/{ann.pk}/addresses", key).json()["results"]][0] == body[
        "id"
    ]


def test_an_eleventh_address_answers_400_address_limit_exceeded(api, key, ann):
    for n in range(Dropoff.MAX_PER_CUSTOMER - 1):
        assert api("post", f"{URL}/{ann.pk}/addresses", key, {"street": f"{n} Elm St"}).status_code == 201

    response = api("post", f"{URL}/{ann.pk}/addresses", key, {"street": "11 Elm St"})

    assert response.status_code == 400
    assert "ADDRESS_LIMIT_EXCEEDED" in response.json()["errors"]["address"][0]
    assert ann.dropoffs.count() == Dropoff.MAX_PER_CUSTOMER


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"city": "No street"}, "street"),
        ({"street": "1 A St", "country": "USA"}, "country"),
        ({"street": "1 A St", "lat": 91}, "lat"),
        ({"street": "1 A St", "kind": "home"}, "kind"),
        ({"street": "1 A St", "is_default": "yes"}, "is_default"),
    ],
)
def test_a_bad_address_answers_400_naming_the_field(api, key, ann, payload, field):
    response = api("post", f"{URL}/{ann.pk}/addresses", key, payload)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert ann.dropoffs.count() == 1


def test_put_replaces_an_address_and_the_timeline_keeps_the_old_one(api, key, ann):
    dropoff = ann.dropoffs.get()

    response = api(
        "put", f"{URL}/{ann.pk}/addresses/{dropoff.pk}", key, {"street": "5 New Rd", "city": "Ogdenville"}
    )

    assert response.status_code == 200
    assert (response.json()["street"], response.json()["city"], response.json()["country"]) == (
        "5 New Rd",
        "Ogdenville",
        "",
    )
    assert response.json()["is_default"] is True
    dropoff.refresh_from_db()
    assert (dropoff.street, dropoff.city) == ("5 New Rd", "Ogdenville")
    activity = ann.activities.get(kind=Activity.Kind.ADDRESS_CHANGED)
    assert (activity.data["old"], activity.data["new"]) == (
        "1 Main St, Springfield, US",
        "5 New Rd, Ogdenville",
    )


def test_put_refuses_an_address_the_customer_already_has(api, key, ann):
    dropoff = ann.dropoffs.get()
    api("post", f"{URL}/{ann.pk}/addresses", key, {"street": "9 Oak Ave"})

    response = api("put", f"{URL}/{ann.pk}/addresses/{dropoff.pk}", key, {"street": "9 oak ave."})

    assert response.status_code == 400
    dropoff.refresh_from_db()
    assert dropoff.street == "1 Main St"


def test_delete_removes_an_address_and_its_orders_keep_none(api, key, ann):
    dropoff = ann.dropoffs.get()

    response = api("delete", f"{URL}/{ann.pk}/addresses/{dropoff.pk}", key)

    assert response.status_code == 204
    assert not ann.dropoffs.exists()
    assert ann.orders.get().dropoff is None
    assert (
        ann.activities.get(kind=Activity.Kind.ADDRESS_REMOVED).data["address"] == "1 Main St, Springfield, US"
    )
    assert api("delete", f"{URL}/{ann.pk}/addresses/{dropoff.pk}", key).status_code == 404


def test_an_address_of_another_customer_of_the_business_is_404(api, key, business, ann):
    bob = services.record_order(
        business=business,
        external_id="B-1",
        phone="+14155550102",
        amount="1.00",
        address={"street": "2 B St"},
    ).order.customer
    theirs = bob.dropoffs.get()

    assert api("put", f"{URL}/{ann.pk}/addresses/{theirs.pk}", key, {"street": "x"}).status_code == 404
    assert api("delete", f"{URL}/{ann.pk}/addresses/{theirs.pk}", key).status_code == 404
    assert bob.dropoffs.get().street == "2 B St"
