import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from conftest import requires_postgres
from customers import services
from customers.models import Activity, Customer, DailyOrderSummary, Order, Payment, Refund

pytestmark = pytest.mark.django_db


def card(transaction_id="T-1", amount="40.00", **changes):
    return {
        "transaction_id": transaction_id,
        "amount": amount,
        "method": "card",
        "provider": "stripe",
        **changes,
    }


def record(business, external_id="A-1", amount="40.00", payments=(), **extra):
    return services.record_order(
        business=business,
        external_id=external_id,
        phone="+14155550101",
        amount=amount,
        payments=list(payments),
        **extra,
    )


def test_an_order_records_its_payments_in_the_order_given(business):
    recorded = record(business, payments=[card("T-2", "10.00", status="failed"), card("T-1", "40.00")])

    assert [p.transaction_id for p in recorded.payments] == ["T-2", "T-1"]
    assert [p.pk for p in recorded.payments] == sorted(p.pk for p in recorded.payments)
    stored = Payment.objects.get(transaction_id="T-1")
    assert stored.order == recorded.order and stored.currency == "USD" and stored.status == "succeeded"


def test_the_same_order_again_answers_its_payments_and_records_none(business):
    first = record(business, payments=[card("T-1"), card("T-2", "5.00")])
    again = record(business, payments=[card("T-1"), card("T-2", "5.00")])

    assert not again.created
    assert [p.pk for p in again.payments] == [p.pk for p in first.payments]
    assert Payment.objects.count() == 2


def test_a_transaction_id_of_another_order_refuses_the_new_order_and_writes_nothing(business):
    record(business, payments=[card("T-1")])

    with pytest.raises(ValidationError) as refused:
        record(business, external_id="A-2", payments=[card("T-1")])

    assert "T-1" in refused.value.message_dict["payments"][0]
    assert Order.objects.count() == 1 and Customer.objects.get().order_count == 1


def test_a_payment_added_twice_is_recorded_once(business):
    order = record(business).order

    first = services.add_payment(order=order, actor=None, **card("T-9"))
    again = services.add_payment(order=order, actor=None, **card("T-9"))

    assert first.created and not again.created and again.payment == first.payment
    assert Payment.objects.count() == 1
    assert Activity.objects.filter(kind=Activity.Kind.PAYMENT_RECORDED).count() == 1


def test_a_payment_with_another_orders_transaction_id_is_refused(business):
    record(business, payments=[card("T-1")])
    other = record(business, external_id="A-2").order

    with pytest.raises(ValidationError) as refused:
        services.add_payment(order=other, actor=None, **card("T-1"))

    assert refused.value.message_dict["transaction_id"] == [
        "Transaction id “T-1” is recorded already, for another order."
    ]


def test_a_partial_refund_keeps_the_order_and_the_stats(business, support):
    order = record(business, payments=[card()]).order
    payment = order.payments.get()

    result = services.refund_payment(
        payment=payment, amount="15.00", reason="Cold pizza", actor=support, source="profile"
    )

    payment.refresh_from_db()
    assert payment.status == "partially_refunded" and payment.refunded_amount == Decimal("15.00")
    assert result.order.status == "completed"
    assert (result.money.paid, result.money.refunded, result.money.outstanding) == (
        Decimal("40.00"),
        Decimal("15.00"),
        Decimal("0.00"),
    )
    customer = Customer.objects.get()
    assert (customer.order_count, customer.total_spent) == (1, Decimal("40.00"))
    refund = Refund.objects.get()
    assert (refund.actor, refund.reason, refund.source) == (support, "Cold pizza", "profile")
    entry = Activity.objects.filter(kind=Activity.Kind.REFUNDED).get()
    assert entry.actor == support and entry.data["amount"] == "15.00" and entry.data["reason"] == "Cold pizza"


def test_the_refund_that_gives_everything_back_refunds_the_order_and_its_stats(business, support):
    record(business, external_id="A-0", amount="10.00")
    order = record(business, payments=[card("T-1", "30.00"), card("T-2", "10.00")]).order
    first, second = order.payments.order_by("pk")

    services.refund_payment(payment=first, amount="30.00", actor=support, source="profile")
    assert Order.objects.get(pk=order.pk).status == "completed"
    result = services.refund_payment(payment=second, amount="10.00", actor=support, source="profile")

    assert result.order.status == "refunded" and result.money.outstanding == Decimal("0.00")
    assert Order.objects.get(pk=order.pk).status == "refunded"
    customer = Customer.objects.get()
    assert (customer.order_count, customer.total_spent) == (1, Decimal("10.00"))
    summary = DailyOrderSummary.objects.aggregate(
        orders=Sum("orders"), revenue=Sum("revenue"), refunds=Sum("refunds"), refunded=Sum("refunded_amount")
    )
    assert summary == {"orders": 1, "revenue": Decimal("10.00"), "refunds": 1, "refunded": Decimal("40.00")}
    assert Activity.objects.filter(kind=Activity.Kind.ORDER_STATUS_CHANGED, data__new="refunded").exists()


@pytest.mark.parametrize("amount", ["40.01", "0", "-1"])
def test_a_refund_past_the_payment_or_not_positive_is_refused(business, amount):
    payment = record(business, payments=[card()]).order.payments.get()

    with pytest.raises(ValidationError) as refused:
        services.refund_payment(payment=payment, amount=amount, actor=None, source="api")

    assert "amount" in refused.value.message_dict
    assert not Refund.objects.exists()


def test_a_failed_or_pending_payment_cannot_be_refunded(business):
    order = record(business, payments=[card("T-1", status="failed"), card("T-2", status="pending")]).order
    for payment in order.payments.all():
        with pytest.raises(ValidationError, match="cannot be refunded"):
            services.refund_payment(payment=payment, amount="1.00", actor=None, source="api")


def test_the_database_refuses_refunds_past_the_amount(business):
    payment = record(business, payments=[card()]).order.payments.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(status="partially_refunded", refunded_amount="40.01")


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_refunds_at_once_never_give_back_more_than_was_paid(business):
    payment = record(business, payments=[card(amount="50.00")]).order.payments.get()
    barrier = threading.Barrier(20)
    outcomes = []

    def refund():
        try:
            barrier.wait()
            services.refund_payment(payment=payment, amount="7.00", actor=None, source="api")
            outcomes.append("refunded")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=refund) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("refunded") == 7 and outcomes.count("refused") == 13
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("49.00") == sum(r.amount for r in Refund.objects.all())
    assert payment.status == "partially_refunded"


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_refunds_of_an_orders_two_payments_at_once_refund_the_order(business):
    order = record(business, payments=[card("T-1", "20.00"), card("T-2", "20.00")]).order
    barrier = threading.Barrier(2)

    def refund(payment):
        try:
            barrier.wait()
            services.refund_payment(payment=payment, amount="20.00", actor=None, source="api")
        finally:
            connection.close()

    threads = [threading.Thread(target=refund, args=(p,)) for p in order.payments.all()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Order.objects.get(pk=order.pk).status == "refunded"
    assert Customer.objects.get().order_count == 0


def test_marking_a_phone_verified_writes_the_timeline_once(business, support):
    customer = record(business).order.customer

    services.mark_phone_verified(customer=customer, actor=support)
    services.mark_phone_verified(customer=customer, actor=support)

    assert Customer.objects.get().phone_verified
    entry = Activity.objects.get(kind=Activity.Kind.PHONE_VERIFIED)
    assert entry.actor == support


def test_a_merge_moves_payments_with_their_orders_and_the_undo_moves_them_back(business, support):
    kept = record(business, payments=[card("T-1")]).order.customer
    other = services.record_order(
        business=business,
        external_id="B-1",
        phone="+14155550202",
        amount="9.00",
        payments=[card("T-2", "9.00")],
    ).order.customer

    merge = services.merge_customers(survivor=kept, merged=[other], reason="same person", actor=support)
    assert set(Payment.objects.filter(order__customer=kept).values_list("transaction_id", flat=True)) == {
        "T-1",
        "T-2",
    }

    services.undo_merge(record=merge, actor=support)
    assert list(Payment.objects.filter(order__customer=other).values_list("transaction_id", flat=True)) == [
        "T-2"
    ]
