"""Every field is checked against what its column holds (customers/normalize.py), in the API,
the merge API, the import, the contact form, the admin and the list filters: bad input is a
400 or a form error, never a 500 or a value that breaks the pages later."""

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from customers import services
from customers.models import Customer, ImportJob, MergeRecord, Order, OrderItem
from customers.tests.admin.test_admin import _empty_inlines
from customers.tests.bulk.test_import import csv_bytes, run_import
from customers.tests.views.test_merge_pages_and_api import post_merge, twins  # noqa: F401

ORDERS_URL = "/api/v1/orders"
LONG_EMAIL = "a" * 243 + "@example.com"  # 255 characters: a form's 320 allows it, the column's 254 does not


def order(**changes):
    body = {"external_id": "A-1", "phone": "+1 415 555 0101", "amount": "42.50"}
    body.update(changes)
    return body


@pytest.fixture
def secret(business):
    return services.create_api_key(business=business, name="Partner app", actor=None)[1]


@pytest.fixture
def post_order(client, secret):
    def send(body):
        return client.post(
            ORDERS_URL, json.dumps(body), "application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
        )

    return send


# The orders API -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"placed_at": "9999-12-31T23:59:59-01:00"}, "placed_at"),
        ({"placed_at": "0001-01-01T00:30:00+14:00"}, "placed_at"),
        ({"placed_at": "1969-12-31T23:59:59Z"}, "placed_at"),
        ({"placed_at": "2026-01-01T00:00:00+16:00"}, "placed_at"),
        ({"placed_at": "2026-01-01T00:00:00-16:00"}, "placed_at"),
        ({"placed_at": []}, "placed_at"),
        ({"placed_at": {}}, "placed_at"),
        ({"placed_at": "٢٠٢٦-01-01T00:00:00Z"}, "placed_at"),
        ({"status": []}, "status"),
        ({"status": {}}, "status"),
        ({"status": "\ud800"}, "status"),
        ({"amount": "٤٢"}, "amount"),
        ({"amount": "1e131073"}, "amount"),
        ({"amount": 1e308}, "amount"),
        ({"amount": "10000000000"}, "amount"),
        ({"external_id": "A-\ud800"}, "external_id"),
        ({"phone": "+1 415 555 0101\ud800"}, "phone"),
        ({"first_name": "\ud800"}, "first_name"),
        ({"last_name": "Lee\udfff"}, "last_name"),
        ({"source": "\ud800"}, "source"),
        ({"currency": "\ud800"}, "currency"),
        ({"source": "door\x00dash"}, "source"),
        ({"email": LONG_EMAIL}, "email"),
        ({"email": "a" * 308 + "@example.com"}, "email"),
        ({"address": {"street": "1 Main St\ud800"}}, "address"),
        ({"address": {"street": "1 Main St", "city": "\x00"}}, "address"),
        ({"address": {"street": "1 Main St", "lat": "٤٢"}}, "address"),
        ({"items": [{"name": "Pizza\ud800", "quantity": 1, "price": "1"}]}, "items"),
        ({"items": [{"name": "Pizza", "sku": "\x00", "quantity": 1, "price": "1"}]}, "items"),
        ({"items": [{"name": "Pizza", "quantity": "٤", "price": "1"}]}, "items"),
        ({"items": [{"name": "Pizza", "quantity": True, "price": "1"}]}, "items"),
        ({"items": [{"name": "Pizza", "quantity": 1, "price": "1000000000000"}]}, "items"),
        ({"items": [{"name": "Pizza", "quantity": 1, "price": "٢١.٢٥"}]}, "items"),
    ],
)
def test_values_the_columns_cannot_hold_answer_400_naming_the_field(post_order, changes, field):
    response = post_order(order(**changes))

    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == [field]
    assert not Order.objects.exists() and not Customer.objects.exists()


def test_an_order_time_outside_the_window_says_which_window(post_order):
    tomorrow = (timezone.now() + dt.timedelta(days=1)).strftime("%Y-%m-%d")

    [message] = post_order(order(placed_at="9999-12-31T23:59:59-01:00")).json()["errors"]["placed_at"]

    assert message.startswith(f"Enter a time between 1970-01-01 and {tomorrow}")


def test_old_order_history_and_a_time_within_a_day_from_now_are_accepted(post_order, business):
    soon = (timezone.now() + dt.timedelta(hours=23)).isoformat()

    assert post_order(order(external_id="old", placed_at="1970-01-01T00:00:00Z")).status_code == 201
    assert post_order(order(external_id="soon", placed_at=soon)).status_code == 201
    assert post_order(order(external_id="far", placed_at="2026-06-01T12:00:00+15:59")).status_code == 201
    assert Order.objects.get(external_id="old").placed_at == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def test_an_email_as_long_as_the_column_is_accepted(post_order):
    email = "a" * 242 + "@example.com"

    assert post_order(order(email=email)).status_code == 201
    assert Customer.objects.get().email == email


# The merge API --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "survivor, merged",
    [
        ("str:survivor", ["merged"]),
        ("survivor", ["str:merged"]),
        ("float:survivor", ["merged"]),
        ("survivor", ["float:merged"]),
        (True, ["merged"]),
        ("survivor", [True]),
        ("survivor", ["merged", "str:merged"]),
        (2**63, ["merged"]),
        ("survivor", [2**64]),
    ],
)
def test_the_merge_api_takes_ids_only_as_json_integers(twins, business, client, survivor, merged):  # noqa: F811
    ann, anne = twins
    ids = {"survivor": ann.pk, "merged": anne.pk}

    def value(spec):
        if not isinstance(spec, str):
            return spec
        kind, _, name = spec.rpartition(":")
        return {"": int, "str": str, "float": float}[kind](ids[name])

    body = {"survivor_id": value(survivor), "merged_ids": [value(spec) for spec in merged], "reason": "same"}
    secret = services.create_api_key(business=business, name="k", actor=None)[1]

    response = post_merge(client, body, secret)

    assert response.status_code == 400, response.content
    assert set(response.json()["errors"]) <= {"survivor_id", "merged_ids"}
    assert not MergeRecord.objects.exists()


@pytest.mark.parametrize("reason", ["same person \ud800", "same\x00person"])
def test_the_merge_reason_is_checked_like_other_text(twins, business, client, reason):  # noqa: F811
    ann, anne = twins
    secret = services.create_api_key(business=business, name="k", actor=None)[1]

    response = post_merge(client, {"survivor_id": ann.pk, "merged_ids": [anne.pk], "reason": reason}, secret)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["reason"]
    assert not MergeRecord.objects.exists()


# The import ------------------------------------------------------------------------------

ORDER_HEADER = "external_id,phone,amount,placed_at,items\n"
NUL_NAME = "Pizza\x00"


def items_cell(**item):
    return '"' + json.dumps([{"name": "Pizza", "quantity": 1, "price": "1", **item}]).replace('"', '""') + '"'


@pytest.mark.parametrize(
    "row, column",
    [
        ("A-1,+14155550101,1,2026-11-01 12:00:00,", None),
        ("A-\x00,+14155550101,1,,", "external_id"),
        ("A-1,+14155550101,1,,\x00", "items"),
        (f"A-1,+14155550101,1,,{items_cell(price='1000000000000')}", "items"),
        (f"A-1,+14155550101,1,,{items_cell(quantity=99999999999)}", "items"),
        (f"A-1,+14155550101,1,,{items_cell(quantity=0)}", "items"),
        (f"A-1,+14155550101,1,,{items_cell(quantity='٤')}", "items"),
        (f"A-1,+14155550101,1,,{items_cell(name=NUL_NAME)}", "items"),
        ("A-1,+14155550101,٤٢,,", "amount"),
        ("A-1,+14155550101,1,9999-12-31T23:59:59-01:00,", "placed_at"),
        ("A-1,+14155550101,1,0001-01-01T00:30:00+14:00,", "placed_at"),
        ("A-1,+14155550101,1,2026-01-01T00:00:00+16:00,", "placed_at"),
        ("A-1,+14155550101,1,٢٠٢٦-01-01 00:00:00,", "placed_at"),
        ("A-1,+1415555\x000101,1,,", "phone"),
    ],
)
def test_the_import_check_refuses_every_row_the_database_would_refuse(business, row, column):
    counts, written, outcomes = run_import(business, csv_bytes(ORDER_HEADER + row + "\n"), kind="orders")

    if column is None:
        assert written and counts.created == 1
        return
    assert not written and counts.errors == 1
    assert [name for name, _ in outcomes[0].errors] == [column]
    assert not Order.objects.exists()


def test_an_item_without_a_quantity_is_one_and_a_quantity_of_zero_is_refused(business):
    rows = f"A-1,+14155550101,1,,{items_cell(quantity=None)}\nA-2,+14155550101,1,,{items_cell(quantity=0)}\n"

    counts, _, outcomes = run_import(business, csv_bytes(ORDER_HEADER + rows), kind="orders", valid_only=True)

    assert (counts.created, counts.errors) == (1, 1)
    assert outcomes[1].errors == [("items", "Item 1: Enter a quantity between 1 and 1,000,000.")]
    assert list(OrderItem.objects.values_list("quantity", flat=True)) == [1]


@pytest.mark.parametrize(
    "date_of_birth, accepted",
    [
        ("1900-01-01", True),
        ("1899-12-31", False),
        ("2999-01-01", False),
        ("tomorrow", False),
        ("١٩٩٠-05-17", False),
    ],
)
def test_the_import_takes_dates_of_birth_from_1900_to_today(business, date_of_birth, accepted):
    data = csv_bytes(f"phone,first_name,date_of_birth\n+14155550101,Ann,{date_of_birth}\n")

    counts, written, outcomes = run_import(business, data)

    assert written == accepted
    if not accepted:
        assert [name for name, _ in outcomes[0].errors] == ["date_of_birth"]


def test_the_import_refuses_a_date_of_birth_tomorrow(business):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    counts, written, _ = run_import(business, csv_bytes(f"phone,date_of_birth\n+14155550101,{tomorrow}\n"))

    assert not written and counts.errors == 1


# The contact form and the admin ------------------------------------------------------------


@pytest.fixture
def ann(business):
    return services.get_or_create_customer(business=business, phone="+14155550101", first_name="Ann")[0]


def contact(customer, **changes):
    data = {"phone": customer.phone, "first_name": customer.first_name, "status": customer.status}
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"date_of_birth": "1899-12-31"}, "date_of_birth"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"date_of_birth": "١٩٩٠-05-17"}, "date_of_birth"),
        ({"email": LONG_EMAIL}, "email"),
    ],
)
def test_the_contact_form_refuses_what_the_column_cannot_hold(client_for, support, ann, changes, field):
    response = client_for(support).post(f"/customers/{ann.pk}/edit/", contact(ann, **changes))

    assert response.status_code == 200
    assert field in response.context["form"].errors
    ann.refresh_from_db()
    assert ann.date_of_birth is None and ann.email == ""


def test_the_contact_form_takes_a_date_of_birth_of_today(client_for, support, ann):
    today = timezone.localdate()

    response = client_for(support).post(f"/customers/{ann.pk}/edit/", contact(ann, date_of_birth=today))

    assert response.status_code == 302
    ann.refresh_from_db()
    assert ann.date_of_birth == today


@pytest.mark.parametrize("date_of_birth", ["2999-01-01", "1899-12-31", "١٩٩٠-05-17"])
def test_the_admin_refuses_a_date_of_birth_outside_1900_to_today(client_for, support, ann, date_of_birth):
    data = {field: getattr(ann, field) or "" for field in services.CONTACT_FIELDS}
    data.update(date_of_birth=date_of_birth, **_empty_inlines())

    response = client_for(support).post(f"/admin/customers/customer/{ann.pk}/change/", data)

    assert response.status_code == 200
    assert "date_of_birth" in response.context["adminform"].form.errors
    ann.refresh_from_db()
    assert ann.date_of_birth is None


# The customer list's filters -----------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"last_order_to": "9999-12-31"},
        {"created_to": "9999-12-31"},
        {"created_from": "0001-01-01"},
        {"last_order_from": "0001-01-01"},
        {"spent_max": "-1e131073"},
        {"spent_min": "1e131073"},
    ],
)
def test_filters_beyond_what_the_columns_hold_are_form_errors_on_the_list_and_refuse_the_export(
    client_for, owner, ann, params
):
    client = client_for(owner)

    response = client.get("/customers/", params)
    export = client.post(
        "/customers/export/?" + "&".join(f"{k}={v}" for k, v in params.items()), {"kind": "customers"}
    )

    assert response.status_code == 200
    assert set(response.context["filter"].errors) == set(params)
    assert export.status_code == 302 and export["Location"].startswith("/customers/?")
    listed = client.get(export["Location"])
    assert "Correct the filters to export the list." in listed.content.decode()


@pytest.mark.parametrize(
    "kind, text",
    [
        (
            "customers",
            "phone,first_name,date_of_birth\n+1415555\x000101,Ann,\n+14155550102,Bob\x00,1990-01-01\x00\n",
        ),
        ("orders", "external_id,phone,amount\nA-\x001,+14155550101,1\nA-2,+14155550101,1\x00\n"),
    ],
)
def test_an_uploaded_file_with_nul_characters_is_checked_with_row_errors(client_for, owner, kind, text):
    client = client_for(owner)
    file = SimpleUploadedFile("rows.csv", text.encode())

    response = client.post("/customers/import/", {"kind": kind, "file": file, "encoding": "auto"})

    job = ImportJob.objects.get()
    assert (job.status, job.error_count) == ("done", 2)
    assert client.get(response["Location"]).status_code == 200
