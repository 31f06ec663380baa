"""Payments in the GDPR export and through an anonymization: the amounts stay, the payer's
references go."""

from decimal import Decimal

import pytest

from customers import services as customer_services
from customers.models import Activity, Payment, Refund
from privacy import services
from privacy.tests.conftest import record
from privacy.tests.test_anonymization import approve_and_run
from privacy.tests.test_exports import data_of, export_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(business, zeb, support):
    record(
        business,
        "Z-2",
        payments=[
            {"transaction_id": "ch_zeb_1", "amount": "40.00", "method": "card", "provider": "stripe"},
            {"transaction_id": "ch_zeb_0", "amount": "40.00", "method": "card", "status": "failed"},
        ],
    )
    payment = Payment.objects.get(transaction_id="ch_zeb_1")
    customer_services.refund_payment(
        payment=payment, amount="10.00", reason="Zebedee says cold", actor=support, source="profile"
    )
    return payment


def test_the_full_export_holds_the_payments_with_their_refunds(
    paid, zeb, compliance, django_capture_on_commit_callbacks
):
    data = data_of(export_now(zeb, compliance, capture=django_capture_on_commit_callbacks))

    payments = {row["transaction_id"]: row for row in data["payments"]}
    assert set(payments) == {"ch_zeb_1", "ch_zeb_0"}
    assert payments["ch_zeb_1"]["order__external_id"] == "Z-2"
    assert payments["ch_zeb_1"]["status"] == "partially_refunded"
    [refund] = payments["ch_zeb_1"]["refunds"]
    assert (refund["amount"], refund["reason"]) == ("10.00", "Zebedee says cold")


def test_anonymization_keeps_payments_and_refunds_without_the_payers_references(
    paid, zeb, support, compliance, django_capture_on_commit_callbacks
):
    request = services.request_anonymization(customer=zeb, reason="Asked by email", actor=support)
    approve_and_run(request, compliance, django_capture_on_commit_callbacks)

    payments = Payment.objects.filter(order__customer=zeb).order_by("pk")
    assert [(p.amount, p.status, p.method) for p in payments] == [
        (Decimal("40.00"), "partially_refunded", "card"),
        (Decimal("40.00"), "failed", "card"),
    ]
    assert [p.transaction_id for p in payments] == [f"anonymized-{p.pk}" for p in payments]
    refund = Refund.objects.get()
    assert refund.amount == Decimal("10.00") and "Zebedee" not in refund.reason
    for entry in Activity.objects.filter(customer=zeb, kind=Activity.Kind.REFUNDED):
        assert "ch_zeb" not in str(entry.data) and "Zebedee" not in str(entry.data)
