"""The profile's payments: totals, orders with payments and refunds, cash on delivery
flags, refunds from the profile and phone verification."""

from decimal import Decimal

import pytest
from django.utils import timezone

from customers import services
from customers.models import Activity, Customer, Membership, Payment, Refund

pytestmark = pytest.mark.django_db


def record(business, external_id="A-1", phone="+14155550101", payments=(), **extra):
    return services.record_order(
        business=business,
        external_id=external_id,
        phone=phone,
        amount="40.00",
        placed_at=timezone.now(),
        payments=list(payments),
        **extra,
    ).order


def pay(transaction_id, amount="40.00", method="card", status="succeeded"):
    return {"transaction_id": transaction_id, "amount": amount, "method": method, "status": status}


def test_the_profile_shows_payments_refunds_totals_and_the_account_of_each_order(
    client_for, support, business
):
    order = record(
        business, source="shopify", first_name="Ann", payments=[pay("ch_fail", status="failed"), pay("ch_ok")]
    )
    record(business, "A-2", payments=[pay("cod_1", "10.00", "cash_on_delivery", "pending")])
    services.link_account(business=business, phone="+14155550101", provider="shopify", email="ann@shop.io")
    services.refund_payment(
        payment=Payment.objects.get(transaction_id="ch_ok"),
        amount="15.00",
        reason="Cold",
        actor=support,
        source="profile",
    )

    response = client_for(support).get(f"/customers/{order.customer_id}/")

    assert response.context["payment_totals"] == {
        "paid": Decimal("40.00"),
        "refunded": Decimal("15.00"),
        "outstanding": Decimal("40.00"),
        "failed": 1,
    }
    body = response.content.decode()
    assert "ch_fail" in body and "ch_ok" in body
    assert "Refund 15.00 USD" in body and "“Cold”" in body
    assert "paid 40.00 · refunded 15.00 · outstanding 0.00" in body
    assert "account ann@shop.io" in body
    assert body.count("COD, phone not verified") == 1
    assert "Mark phone verified" in body


def test_support_and_owners_refund_from_the_profile(client_for, support, owner, business):
    order = record(business, payments=[pay("ch_1")])
    payment = Payment.objects.get()

    response = client_for(support).post(
        f"/customers/{order.customer_id}/payments/{payment.pk}/refund/", {"amount": "20.00", "reason": "Late"}
    )
    assert response.status_code == 302 and response.url.endswith("#orders")
    client_for(owner).post(
        f"/customers/{order.customer_id}/payments/{payment.pk}/refund/", {"amount": "20.00", "reason": "Rest"}
    )

    assert [(r.actor, r.amount, r.source) for r in Refund.objects.order_by("pk")] == [
        (support, Decimal("20.00"), "profile"),
        (owner, Decimal("20.00"), "profile"),
    ]
    order.refresh_from_db()
    assert order.status == "refunded" and Customer.objects.get().order_count == 0


def test_a_refund_past_the_payment_is_an_error_message_and_no_refund(client_for, support, business):
    order = record(business, payments=[pay("ch_1")])
    payment = Payment.objects.get()

    response = client_for(support).post(
        f"/customers/{order.customer_id}/payments/{payment.pk}/refund/",
        {"amount": "40.01", "reason": "Too much"},
        follow=True,
    )

    assert "At most 40.00 USD of this payment can still be refunded." in response.content.decode()
    assert not Refund.objects.exists()


def test_compliance_cannot_refund(client_for, compliance, business):
    order = record(business, payments=[pay("ch_1")])
    payment = Payment.objects.get()

    response = client_for(compliance).post(
        f"/customers/{order.customer_id}/payments/{payment.pk}/refund/", {"amount": "1.00", "reason": "x"}
    )

    assert response.status_code == 403 and not Refund.objects.exists()
    assert (
        "Refund</summary>"
        not in client_for(compliance).get(f"/customers/{order.customer_id}/").content.decode()
    )


def test_another_businesss_payment_or_customer_is_a_404(client_for, support, business, other_business):
    mine = record(business, payments=[pay("ch_1")])
    theirs = record(other_business, payments=[pay("ch_2")], phone="+447911123456")
    their_payment = Payment.objects.get(transaction_id="ch_2")
    client = client_for(support)

    assert (
        client.post(
            f"/customers/{theirs.customer_id}/payments/{their_payment.pk}/refund/",
            {"amount": "1.00", "reason": "x"},
        ).status_code
        == 404
    )
    # Another customer's payment through this customer's URL is not found either.
    assert (
        client.post(
            f"/customers/{mine.customer_id}/payments/{their_payment.pk}/refund/",
            {"amount": "1.00", "reason": "x"},
        ).status_code
        == 404
    )
    assert client.post(f"/customers/{theirs.customer_id}/verify-phone/").status_code == 404
    assert not Refund.objects.exists()
    assert not Customer.objects.get(pk=theirs.customer_id).phone_verified


def test_support_marks_the_phone_verified_and_the_cod_flag_goes(client_for, support, business):
    order = record(business, payments=[pay("cod_1", method="cash_on_delivery", status="pending")])
    client = client_for(support)

    client.post(f"/customers/{order.customer_id}/verify-phone/")

    assert Customer.objects.get().phone_verified
    assert Activity.objects.get(kind=Activity.Kind.PHONE_VERIFIED).actor == support
    response = client.get(f"/customers/{order.customer_id}/")
    body = response.content.decode()
    assert (
        "COD, phone not verified" not in body
        and 'Phone <span class="mono">+14155550101</span> verified' in body
    )


def test_only_those_who_edit_contact_data_verify_phones(client_for, business, make_member):
    order = record(business)
    compliance = make_member(business, Membership.Role.COMPLIANCE)

    assert client_for(compliance).post(f"/customers/{order.customer_id}/verify-phone/").status_code == 403
    assert not Customer.objects.get().phone_verified


def test_a_changed_phone_is_no_longer_verified(business, support):
    customer = record(business).customer
    services.mark_phone_verified(customer=customer, actor=support)

    services.update_contact(customer=customer, first_name="Ann", actor=support)
    assert Customer.objects.get().phone_verified
    services.update_contact(customer=customer, phone="+14155550199", actor=support)
    assert not Customer.objects.get().phone_verified
