"""Opt-ins sent with an order (API) or in an import file become consent events of source
checkout or import; customers validates them and privacy records them."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers import services as customer_services
from customers.signals import OPT_IN_FIELDS
from customers.tests.bulk.test_import import run_import
from privacy import queries, services
from privacy.models import ConsentEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_key(business):
    return customer_services.create_api_key(business=business, name="Shop", actor=None)[1]


def post_order(client, key, **fields):
    payload = {"external_id": "A-1", "phone": "+14155550101", "amount": "10.00", **fields}
    return client.post(
        "/api/v1/orders",
        json.dumps(payload),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def test_the_opt_in_fields_of_privacy_are_those_customers_validates():
    assert list(services.OPT_IN_FIELDS) == OPT_IN_FIELDS


def test_an_order_with_opt_ins_records_them_as_checkout_consents(client, api_key, business):
    response = post_order(client, api_key, marketing_opt_in=True, sms_opt_in=False, source="shopify")

    assert response.status_code == 201
    ann = customer_services.find_customer_by_phone(business, "+14155550101")
    record = queries.preferences_of(ann)
    assert (record.email_marketing, record.sms_marketing, record.push_notifications) == (True, False, True)
    events = ConsentEvent.objects.filter(customer=ann).order_by("channel")
    assert [(e.channel, e.action, e.source) for e in events] == [
        ("email", "granted", "checkout"),
        ("push", "granted", "checkout"),
    ]
    assert events[0].evidence == "Checkout of order A-1 (shopify): marketing_opt_in=true, sms_opt_in=false"
    assert events[0].reference == "order A-1"


def test_a_retried_order_does_not_record_its_opt_ins_twice(client, api_key):
    post_order(client, api_key, email_opt_in=True)
    response = post_order(client, api_key, email_opt_in=True)

    assert response.status_code == 200
    assert ConsentEvent.objects.count() == 1


@pytest.mark.parametrize("value", ["yes", 1, "true", [], {}])
def test_a_bad_opt_in_is_a_400_naming_the_field(client, api_key, value):
    response = post_order(client, api_key, email_opt_in=value)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["email_opt_in"]
    assert not ConsentEvent.objects.exists()


def test_an_order_without_opt_ins_costs_privacy_no_query_for_a_known_customer(client, api_key):
    post_order(client, api_key)
    with CaptureQueriesContext(connection) as captured:
        response = post_order(client, api_key, external_id="A-2")
    assert response.status_code == 201
    assert not [query["sql"] for query in captured if "privacy_" in query["sql"]]


def test_opt_ins_cost_a_known_customers_order_four_statements(client, api_key, business):
    post_order(client, api_key)
    with CaptureQueriesContext(connection) as captured:
        post_order(client, api_key, external_id="A-2", email_opt_in=True)
    # The preference record read and inserted, the event inserted; and the timeline entry.
    statements = [query["sql"] for query in captured if "privacy_" in query["sql"]]
    assert len(statements) == 3
    assert ConsentEvent.objects.get().reference == "order A-2"
    ann = customer_services.find_customer_by_phone(business, "+14155550101")
    assert ann.activities.filter(kind="preference_changed").count() == 1


def test_an_order_creating_its_customer_reads_only_the_signup_settings(client, api_key):
    with CaptureQueriesContext(connection) as captured:
        post_order(client, api_key)
    assert len([query for query in captured if "privacy_" in query["sql"]]) == 1


CUSTOMERS = (
    "phone,first_name,marketing_opt_in,email_opt_in,sms_opt_in\n"
    "+14155550101,Ann,yes,,no\n"
    "+14155550102,Bob,,TRUE,\n"
    "+14155550103,Cal,,,\n"
)


def test_a_customer_import_records_its_opt_in_cells_as_import_consents(business, owner):
    counts, written, _ = run_import(business, CUSTOMERS.encode(), actor=owner)

    assert written and counts.errors == 0
    rows = ConsentEvent.objects.order_by("customer__phone", "channel").values_list(
        "customer__first_name", "channel", "action", "source", "actor"
    )
    assert list(rows) == [
        ("Ann", "email", "granted", "import", owner.pk),
        ("Ann", "push", "granted", "import", owner.pk),
        ("Bob", "email", "granted", "import", owner.pk),
    ]
    ann_event = ConsentEvent.objects.filter(customer__first_name="Ann").first()
    assert ann_event.evidence == "Customer import file: marketing_opt_in=true, sms_opt_in=false"

    # The same file again changes nothing: only changes are consents.
    run_import(business, CUSTOMERS.encode(), actor=owner)
    assert ConsentEvent.objects.count() == 3


def test_a_bad_opt_in_cell_is_an_error_of_its_row(business, owner):
    data = "phone,sms_opt_in\n+14155550101,maybe\n"
    counts, written, outcomes = run_import(business, data.encode(), actor=owner)

    assert not written and counts.errors == 1
    assert outcomes[0].errors == [("sms_opt_in", "“maybe” is not yes or no: write true or false.")]
    assert not ConsentEvent.objects.exists()


def test_an_order_import_records_the_opt_ins_of_its_new_orders(business, owner):
    data = "external_id,phone,amount,sms_opt_in\nA-1,+14155550101,10,yes\nA-2,+14155550102,12,\n"
    counts, written, _ = run_import(business, data.encode(), kind="orders", actor=owner)

    assert written and counts.created == 2
    [event] = ConsentEvent.objects.all()
    assert (event.customer.phone, event.channel, event.source) == ("+14155550101", "sms", "import")
    assert event.evidence == "Order import file: sms_opt_in=true"


def test_customers_an_import_creates_get_the_signup_opt_in(business, owner):
    services.update_privacy_settings(
        business=business, actor=owner, signup_sms_marketing=True, signup_wording="Texts about deals: yes."
    )
    run_import(business, CUSTOMERS.encode(), actor=owner)

    cal = ConsentEvent.objects.filter(customer__first_name="Cal").values_list("source", "channel", "action")
    assert list(cal) == [("signup", "sms", "granted")]
    # Ann's own "no" in the file comes after her sign-up.
    ann = ConsentEvent.objects.filter(customer__first_name="Ann", channel="sms").order_by("id")
    assert list(ann.values_list("source", "action")) == [("signup", "granted"), ("import", "withdrawn")]
