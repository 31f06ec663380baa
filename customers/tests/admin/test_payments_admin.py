import pytest

from customers import services
from customers.models import Payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def payments(business, other_business):
    for owner_business, phone, transaction_id in [
        (business, "+14155550101", "ch_mine"),
        (other_business, "+447911123456", "ch_theirs"),
    ]:
        services.record_order(
            business=owner_business,
            external_id="A-1",
            phone=phone,
            amount="10.00",
            payments=[{"transaction_id": transaction_id, "amount": "10.00", "method": "card"}],
        )
    services.refund_payment(
        payment=Payment.objects.get(transaction_id="ch_mine"),
        amount="2.00",
        reason="late",
        actor=None,
        source="api",
    )


def test_payments_and_refunds_are_read_only_and_scoped_in_the_admin(payments, owner, client_for):
    client = client_for(owner)
    mine, theirs = (
        Payment.objects.get(transaction_id="ch_mine"),
        Payment.objects.get(transaction_id="ch_theirs"),
    )

    listing = client.get("/admin/customers/payment/").content.decode()
    assert "ch_mine" in listing and "ch_theirs" not in listing
    page = client.get(f"/admin/customers/payment/{mine.pk}/change/")
    assert page.status_code == 200 and "late" in page.content.decode()
    assert client.get(f"/admin/customers/payment/{theirs.pk}/change/").status_code == 404
    assert client.get("/admin/customers/payment/add/").status_code == 403
    client.post(f"/admin/customers/payment/{mine.pk}/change/", {"amount": "1.00"})
    assert Payment.objects.get(pk=mine.pk).amount == 10
    refunds = client.get("/admin/customers/refund/").content.decode()
    assert "late" in refunds
