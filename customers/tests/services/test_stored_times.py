"""Order and customer times outside what the pages can show: the database refuses them, and
the migration that brought the constraints moved the ones stored before into range."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from conftest import requires_postgres
from customers import services
from customers.models import Customer, Order

BEFORE_THE_CONSTRAINTS = "0008_one_job_table"


def assert_the_pages_of_the_business_answer_200(client, customer):
    """The pages a stored value could break: the list, a search, the profile, the admin's
    lists and the exports of customers and orders."""
    pages = [
        "/customers/",
        "/customers/?q=ann",
        "/customers/?o=-last_order",
        f"/customers/{customer.pk}/",
        "/admin/customers/customer/",
        "/admin/customers/order/",
        "/admin/customers/activity/",
        f"/admin/customers/customer/{customer.pk}/change/",
    ]
    for url in pages:
        assert client.get(url).status_code == 200, url
    for kind in ["customers", "orders"]:
        response = client.post("/customers/export/", {"kind": kind, "format": "csv"})
        assert response.status_code == 200, kind
        b"".join(response.streaming_content)


@pytest.fixture
def ann_order(business):
    return services.record_order(
        business=business, external_id="A-1", phone="+14155550101", first_name="Ann", amount="10.00"
    ).order


@pytest.mark.parametrize(
    "field, value",
    [
        ("placed_at", dt.datetime(2100, 1, 1, tzinfo=dt.UTC)),
        ("placed_at", dt.datetime(1969, 12, 31, 23, 59, tzinfo=dt.UTC)),
        ("completed_at", dt.datetime(9999, 12, 31, tzinfo=dt.UTC)),
    ],
)
def test_the_database_refuses_an_order_time_outside_the_window(ann_order, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=ann_order.pk).update(**{field: value})


@pytest.mark.parametrize("field", ["first_order_at", "last_order_at"])
def test_the_database_refuses_a_customer_order_time_outside_the_window(ann_order, field):
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.filter(pk=ann_order.customer_id).update(
            **{field: dt.datetime(1900, 1, 1, tzinfo=dt.UTC)}
        )


@requires_postgres
def test_postgresql_refuses_the_times_the_api_used_to_store(ann_order):
    # What "9999-12-31T23:59:59-01:00" and "0001-01-01T00:30:00+14:00" became in UTC.
    for value in ["10000-01-01 00:59:59+00", "0001-12-31 10:30:00+00 BC"]:
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE customers_order SET placed_at = %s WHERE id = %s", [value, ann_order.pk])


def migrate(targets):
    MigrationExecutor(connection).migrate(targets)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_stored_times_into_range_and_the_pages_answer_200_again(
    business, owner, client_for
):
    first = services.record_order(
        business=business, external_id="A-1", phone="+14155550101", first_name="Ann", amount="10.00"
    ).order
    second = services.record_order(
        business=business, external_id="A-2", phone="+14155550101", amount="5.00", placed_at=first.placed_at
    ).order
    # Every app's latest, not only customers': the other apps' migrations that depend on
    # customers are unapplied with it.
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    migrate([("customers", BEFORE_THE_CONSTRAINTS)])
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE customers_order SET placed_at = '10000-01-01 00:59:59+00', "
                "completed_at = '10000-01-01 00:59:59+00' WHERE id = %s",
                [first.pk],
            )
            cursor.execute(
                "UPDATE customers_order SET placed_at = '0001-12-31 10:30:00+00 BC' WHERE id = %s",
                [second.pk],
            )
            cursor.execute(
                "UPDATE customers_customer SET first_order_at = '0001-12-31 10:30:00+00 BC', "
                "last_order_at = '10000-01-01 00:59:59+00' WHERE id = %s",
                [first.customer_id],
            )
    finally:
        migrate(latest)

    first.refresh_from_db()
    second.refresh_from_db()
    customer = Customer.objects.get(pk=first.customer_id)
    assert first.placed_at == first.completed_at == first.created_at
    assert second.placed_at == second.created_at
    assert (customer.first_order_at, customer.last_order_at) == (first.placed_at, second.placed_at)
    assert_the_pages_of_the_business_answer_200(client_for(owner), customer)
