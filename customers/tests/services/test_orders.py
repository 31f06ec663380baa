"""Recording orders: addresses, status changes, blacklist, idempotency, items, signal."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from customers import services
from customers.models import Activity, BlacklistEntry, Customer, Dropoff, Order
from customers.signals import order_recorded

PHONE = "+14155550101"
NOON = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)


def record(business, external_id, **fields):
    fields = {"phone": PHONE, "amount": "10.00", **fields}
    return services.record_order(business=business, external_id=external_id, actor=None, **fields)


def test_two_orders_to_the_same_address_written_differently_share_one_dropoff(business):
    first = record(business, "A-1", address={"street": "1 Main St.", "city": "Springfield", "country": "us"})
    second = record(business, "A-2", address={"street": "1 MAIN ST", "city": "springfield", "country": "US"})

    assert first.order.dropoff_id == second.order.dropoff_id
    dropoff = Dropoff.objects.get()
    assert dropoff.street == "1 Main St." and dropoff.country == "US"
    assert dropoff.is_default


def test_a_different_address_adds_a_second_dropoff_that_is_not_the_default(business):
    record(business, "A-1", address={"street": "1 Main St"})
    record(business, "A-2", address={"street": "2 Elm St"})

    assert Dropoff.objects.count() == 2
    assert Dropoff.objects.get(is_default=True).street == "1 Main St"


def test_an_eleventh_address_is_refused_and_nothing_of_that_order_is_recorded(business):
    for number in range(1, Dropoff.MAX_PER_CUSTOMER + 1):
        record(business, f"A-{number}", address={"street": f"{number} Main St"})
    customer = Customer.objects.get()
    activities = Activity.objects.count()

    with pytest.raises(ValidationError) as raised:
        record(business, "A-11", address={"street": "99 Elm St"})

    assert raised.value.message_dict["address"] == [services.ADDRESS_LIMIT_EXCEEDED]
    assert "ADDRESS_LIMIT_EXCEEDED" in services.ADDRESS_LIMIT_EXCEEDED
    assert not Order.objects.filter(external_id="A-11").exists()
    assert Dropoff.objects.count() == Dropoff.MAX_PER_CUSTOMER
    assert Activity.objects.count() == activities
    customer.refresh_from_db()
    assert customer.order_count == Dropoff.MAX_PER_CUSTOMER


def test_a_known_address_is_still_accepted_at_the_limit(business):
    for number in range(1, Dropoff.MAX_PER_CUSTOMER + 1):
        record(business, f"A-{number}", address={"street": f"{number} Main St"})

    recorded = record(business, "A-11", address={"street": "1 main st"})

    assert recorded.created and recorded.order.dropoff.street == "1 Main St"


def test_an_address_changed_mid_delivery_keeps_the_original_dropoff(business):
    order = record(business, "A-1", address={"street": "1 Main St"}).order
    first_dropoff = order.dropoff

    order = services.change_order_address(order=order, address={"street": "2 Elm St"}, actor=None)
    assert order.dropoff.street == "2 Elm St"
    assert order.original_dropoff == first_dropoff

    order = services.change_order_address(order=order, address={"street": "3 Oak St"}, actor=None)
    order.refresh_from_db()
    assert order.dropoff.street == "3 Oak St"
    assert order.original_dropoff == first_dropoff
    assert Activity.objects.filter(kind=Activity.Kind.ORDER_ADDRESS_CHANGED).count() == 2


def test_changing_an_order_to_its_current_address_changes_nothing(business):
    order = record(business, "A-1", address={"street": "1 Main St"}).order

    order = services.change_order_address(order=order, address={"street": "1 MAIN ST."}, actor=None)

    assert order.original_dropoff is None
    assert not Activity.objects.filter(kind=Activity.Kind.ORDER_ADDRESS_CHANGED).exists()


def test_status_changes_keep_the_customer_stats_exact(business):
    record(business, "A-1", amount="30.00", placed_at=NOON)
    order = record(business, "A-2", amount="12.50", placed_at=NOON + dt.timedelta(days=1)).order

    def stats():
        customer = Customer.objects.get()
        return customer.order_count, customer.total_spent, customer.last_order_at

    assert stats() == (2, Decimal("42.50"), NOON + dt.timedelta(days=1))
    services.change_order_status(order=order, status=Order.Status.REFUNDED, actor=None)
    assert stats() == (1, Decimal("30.00"), NOON)
    services.change_order_status(order=order, status=Order.Status.COMPLETED, actor=None)
    assert stats() == (2, Decimal("42.50"), NOON + dt.timedelta(days=1))
    assert Activity.objects.filter(kind=Activity.Kind.ORDER_STATUS_CHANGED).count() == 2


def test_a_pending_order_counts_only_once_completed(business):
    order = record(business, "A-1", status=Order.Status.PENDING).order
    assert Customer.objects.get().order_count == 0
    assert order.completed_at is None

    order = services.change_order_status(order=order, status=Order.Status.COMPLETED, actor=None)

    customer = Customer.objects.get()
    assert (customer.order_count, customer.total_spent) == (1, Decimal("10.00"))
    assert order.completed_at is not None


def test_cancelling_the_only_counted_order_leaves_the_customer_without_stats(business):
    order = record(business, "A-1", amount="25.00", placed_at=NOON).order

    services.change_order_status(order=order, status=Order.Status.CANCELLED, actor=None)

    customer = Customer.objects.get()
    stats = customer.order_count, customer.total_spent, customer.first_order_at, customer.last_order_at
    assert stats == (0, Decimal("0"), None, None)


@pytest.mark.parametrize("status", [Order.Status.BLOCKED, "shipped"])
def test_an_order_cannot_be_changed_to_blocked_or_an_unknown_status(business, status):
    order = record(business, "A-1").order

    with pytest.raises(ValidationError):
        services.change_order_status(order=order, status=status, actor=None)

    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED


def test_a_blacklisted_customers_order_is_recorded_blocked_and_not_counted(business):
    record(business, "A-1", amount="20.00")
    customer = Customer.objects.get()
    services.blacklist_customer(customer=customer, reason=BlacklistEntry.Reason.FRAUD, actor=None)

    recorded = record(business, "A-2", amount="99.00")

    assert recorded.created and recorded.blocked
    assert recorded.order.status == Order.Status.BLOCKED
    assert recorded.order.completed_at is None
    customer.refresh_from_db()
    assert (customer.order_count, customer.total_spent) == (1, Decimal("20.00"))


def test_recording_the_same_external_id_twice_records_one_order(business):
    first = record(business, "A-1", amount="10.00")
    again = record(business, "A-1", amount="55.00", phone="+14155550199")

    assert first.created and not again.created
    assert again.order.pk == first.order.pk
    assert again.order.amount == Decimal("10.00")
    assert Order.objects.count() == 1 and Customer.objects.count() == 1
    customer = Customer.objects.get()
    assert (customer.order_count, customer.total_spent) == (1, Decimal("10.00"))
    assert Activity.objects.filter(kind=Activity.Kind.ORDER_RECORDED).count() == 1


def test_the_same_external_id_in_another_business_is_another_order(business, other_business):
    mine = record(business, "A-1")
    theirs = record(other_business, "A-1", phone="+1 415 555 0101")

    assert theirs.created and theirs.order.pk != mine.order.pk
    assert theirs.order.customer.business == other_business
    assert theirs.order.currency == "GBP"


def test_the_order_recorded_signal_is_sent_once_with_the_order(business):
    received = []

    def receiver(sender, order, customer, **kwargs):
        received.append((order.pk, customer.pk))

    order_recorded.connect(receiver)
    try:
        first = record(business, "A-1")
        record(business, "A-1")
    finally:
        order_recorded.disconnect(receiver)

    assert received == [(first.order.pk, first.order.customer_id)]


def test_the_items_are_stored_with_the_order(business):
    items = [
        {"sku": "P1", "name": "Pizza", "category": "food", "quantity": 2, "price": Decimal("21.25")},
        {"sku": "", "name": "Soda", "category": "", "quantity": 1, "price": Decimal("0")},
    ]

    order = record(business, "A-1", amount="42.50", items=items).order

    fields = ["sku", "name", "category", "quantity", "price", "business"]
    stored = list(order.items.order_by("pk").values(*fields))
    assert stored == [{**item, "business": business.pk} for item in items]


def test_an_order_is_on_the_customers_timeline(business):
    order = record(business, "A-1", amount="42.50").order

    activity = Activity.objects.get(kind=Activity.Kind.ORDER_RECORDED)
    assert activity.customer_id == order.customer_id
    assert activity.data["external_id"] == "A-1" and activity.data["amount"] == "42.50"
    assert Activity.objects.filter(kind=Activity.Kind.CREATED, customer_id=order.customer_id).count() == 1


def test_first_and_last_order_dates_follow_placed_at_not_arrival(business):
    record(business, "A-2", placed_at=NOON + dt.timedelta(days=2))
    record(business, "A-1", placed_at=NOON)

    customer = Customer.objects.get()
    assert customer.first_order_at == NOON
    assert customer.last_order_at == NOON + dt.timedelta(days=2)


def test_a_known_customer_gets_blank_contact_fields_filled_but_not_overwritten(business):
    record(business, "A-1", first_name="Ann")

    record(business, "A-2", first_name="Annie", last_name="Lee", email="ann@example.com")

    customer = Customer.objects.get()
    assert (customer.first_name, customer.last_name, customer.email) == ("Ann", "Lee", "ann@example.com")
    assert "ann@example.com" in customer.search_text
