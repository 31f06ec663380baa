"""The orders import's payment columns: payment_method, payment_status, transaction_id."""

from decimal import Decimal

import pytest

from customers import services
from customers.models import Activity, Payment
from customers.tests.bulk.test_import import csv_bytes, run_import

pytestmark = pytest.mark.django_db

HEADER = "external_id,phone,amount,payment_method,payment_status,transaction_id\n"


def test_an_order_row_records_its_payment_once(business, owner):
    data = (
        HEADER
        + "A-1,+14155550101,42.50,card,succeeded,ch_1\nA-2,+14155550101,10,cash on delivery,pending,cod_1\n"
    )

    counts, written, outcomes = run_import(business, csv_bytes(data), kind="orders", actor=owner)
    again, _, _ = run_import(business, csv_bytes(data), kind="orders", actor=owner)

    assert written and counts.created == 2, [o.message for o in outcomes]
    assert again.unchanged == 2
    assert sorted(
        Payment.objects.values_list("order__external_id", "transaction_id", "amount", "method", "status")
    ) == [
        ("A-1", "ch_1", Decimal("42.50"), "card", "succeeded"),
        ("A-2", "cod_1", Decimal("10.00"), "cash_on_delivery", "pending"),
    ]
    assert not Activity.objects.filter(kind=Activity.Kind.PAYMENT_RECORDED).exists()


def test_a_row_of_a_recorded_order_adds_its_payment_to_the_timeline(business, owner):
    services.record_order(business=business, external_id="A-1", phone="+14155550101", amount="42.50")

    counts, _, outcomes = run_import(
        business, csv_bytes(HEADER + "A-1,+14155550101,,wallet,,wl_1\n"), kind="orders", actor=owner
    )

    assert counts.updated == 1, [o.message for o in outcomes]
    payment = Payment.objects.get()
    assert (payment.amount, payment.method, payment.status) == (Decimal("42.50"), "wallet", "succeeded")
    entry = Activity.objects.get(kind=Activity.Kind.PAYMENT_RECORDED)
    assert entry.actor == owner and entry.data["transaction_id"] == "wl_1"


@pytest.mark.parametrize(
    "row, column, message",
    [
        ("B-1,+14155550101,5,card,,\n", "transaction_id", "needs its transaction id"),
        ("B-1,+14155550101,5,cheque,,ch_9\n", "payment_method", "is not one of"),
        ("B-1,+14155550101,5,card,refunded,ch_9\n", "payment_status", "refunds are made"),
        ("B-1,+14155550101,5,card,,ch_1\n", "transaction_id", "for another order"),
        ("B-1,+14155550101,0,card,,ch_9\n", "transaction_id", "An order of 0"),
    ],
)
def test_a_bad_payment_refuses_the_row(business, row, column, message):
    services.record_order(
        business=business,
        external_id="A-1",
        phone="+14155550101",
        amount="5",
        payments=[{"transaction_id": "ch_1", "amount": "5", "method": "card"}],
    )

    counts, written, outcomes = run_import(business, csv_bytes(HEADER + row), kind="orders")

    assert not written and counts.errors == 1
    [(error_column, error)] = outcomes[0].errors
    assert error_column == column and message in error
    assert Payment.objects.count() == 1


def test_the_same_transaction_id_on_two_rows_is_refused(business):
    data = HEADER + "A-1,+14155550101,5,card,,ch_1\nA-2,+14155550101,5,card,,ch_1\n"

    counts, _, outcomes = run_import(business, csv_bytes(data), kind="orders")

    assert counts.errors == 1 and "also on row 2" in outcomes[1].message
