"""The orders export holds each order's payments with their refunds, in the set-based
export and the admin's (the resources) alike."""

import json

import pytest

from customers import services
from customers.bulk import exports
from customers.models import Payment
from customers.resources import RESOURCES

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_orders(business):
    services.record_order(
        business=business,
        external_id="A-1",
        phone="+14155550101",
        amount="40.00",
        payments=[
            {"transaction_id": "ch_fail", "amount": "40.00", "method": "card", "status": "failed"},
            {
                "transaction_id": "ch_ok",
                "amount": "40.00",
                "method": "card",
                "provider": "stripe",
                "processed_at": None,
            },
        ],
    )
    services.record_order(business=business, external_id="A-2", phone="+14155550101", amount="5.00")
    services.refund_payment(
        payment=Payment.objects.get(transaction_id="ch_ok"), amount="15.00", actor=None, source="api"
    )


def test_the_orders_export_has_the_payments_paid_and_refunded(paid_orders, business):
    queryset = exports.queryset_for(business, "orders", {})
    header, *rows = exports.export_rows("orders", queryset)
    by_external_id = {row[header.index("external_id")]: dict(zip(header, row, strict=True)) for row in rows}

    paid = by_external_id["A-1"]
    assert (paid["paid"], paid["refunded"]) == ("40.00", "15.00")
    assert [(p["transaction_id"], p["status"], p["refunded"]) for p in json.loads(paid["payments"])] == [
        ("ch_fail", "failed", "0.00"),
        ("ch_ok", "partially_refunded", "15.00"),
    ]
    unpaid = by_external_id["A-2"]
    assert (unpaid["payments"], unpaid["paid"], unpaid["refunded"]) == ("", "0.00", "0.00")


def test_the_admins_export_gives_the_same_payment_cells(paid_orders, business):
    resource = RESOURCES["orders"](business=business)
    queryset = exports.queryset_for(business, "orders", {})
    expected = [resource.get_export_headers()] + [
        resource.export_resource(obj, force_native_type=True) for obj in resource.filter_export(queryset)
    ]

    assert list(exports.export_rows("orders", queryset)) == expected
