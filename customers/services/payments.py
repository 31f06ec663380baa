"""Payments and refunds of orders, and the phone verification that cash on delivery asks for."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from customers import queries
from customers.models import Activity, Customer, Order, Payment, Refund
from customers.services.activity import log_activity
from customers.services.orders import change_order_status, taken_transaction_ids, unsaved_payment


@dataclass
class AddedPayment:
    payment: Payment
    created: bool


def add_payment(*, order, actor, transaction_id, **payment):
    """Record one more payment of an order, once per transaction id: the same id again
    returns the payment recorded first; an id recorded for another order is refused."""
    try:
        return AddedPayment(
            _insert_payment(order=order, actor=actor, transaction_id=transaction_id, **payment), True
        )
    except IntegrityError:
        existing = Payment.objects.filter(
            business_id=order.business_id, transaction_id=transaction_id
        ).first()
        if existing is None:
            raise
        if existing.order_id != order.pk:
            raise ValidationError(
                {"transaction_id": taken_transaction_ids(order.business_id, [transaction_id])}
            ) from None
        return AddedPayment(existing, False)


@transaction.atomic
def _insert_payment(*, order, actor, **fields):
    payment = unsaved_payment(order, **fields)
    payment.save()
    log_activity(
        order.customer,
        Activity.Kind.PAYMENT_RECORDED,
        actor,
        order_id=order.pk,
        external_id=order.external_id,
        payment_id=payment.pk,
        transaction_id=payment.transaction_id,
        amount=str(payment.amount),
        currency=payment.currency,
        method=payment.method,
        status=payment.status,
    )
    return payment


@dataclass
class RefundResult:
    refund: Refund
    payment: Payment
    order: Order
    money: queries.OrderMoney


@transaction.atomic
def refund_payment(*, payment, amount, reason="", actor, source):
    """Give back `amount` of a payment, never more than it has left; the refund that gives
    back everything the order's payments took moves the order to refunded (its stats and
    the dashboard's figures follow, as for any status change)."""
    amount = Decimal(amount)
    if amount <= 0:
        raise ValidationError({"amount": "A refund is more than 0."})
    # Concurrent refunds of one payment queue here, each reading what the previous left.
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status not in Payment.REFUNDABLE_STATUSES:
        raise ValidationError(
            {"payment": f"A {payment.get_status_display().lower()} payment cannot be refunded."}
        )
    if amount > payment.refundable:
        left = f"{payment.refundable} {payment.currency}"
        raise ValidationError({"amount": f"At most {left} of this payment can still be refunded."})
    refund = Refund.objects.create(
        business_id=payment.business_id,
        payment=payment,
        amount=amount,
        reason=reason,
        actor=actor,
        source=source,
    )
    payment.refunded_amount += amount
    fully = payment.refunded_amount == payment.amount
    payment.status = Payment.Status.REFUNDED if fully else Payment.Status.PARTIALLY_REFUNDED
    payment.save(update_fields=["refunded_amount", "status"])
    # The customer's lock queues refunds of the order's other payments too, so that the
    # last of them sees all the others when it decides whether the order is refunded.
    customer = Customer.objects.select_for_update().get(pk=payment.order.customer_id)
    order = payment.order
    log_activity(
        customer,
        Activity.Kind.REFUNDED,
        actor,
        order_id=order.pk,
        external_id=order.external_id,
        payment_id=payment.pk,
        transaction_id=payment.transaction_id,
        refund_id=refund.pk,
        amount=str(amount),
        currency=payment.currency,
        reason=reason,
    )
    payments = list(order.payments.only("amount", "status", "refunded_amount"))
    money = queries.money_of(order, payments)
    if money.fully_refunded and order.status != Order.Status.REFUNDED:
        order = change_order_status(order=order, status=Order.Status.REFUNDED, actor=actor)
        money = queries.money_of(order, payments)
    return RefundResult(refund=refund, payment=payment, order=order, money=money)


@transaction.atomic
def mark_phone_verified(*, customer, actor):
    """Support confirmed the customer's phone (e.g. called it back): cash on delivery
    orders of this customer are no longer flagged."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.phone_verified:
        return customer
    customer.phone_verified = True
    customer.save(update_fields=["phone_verified", "updated_at"])
    log_activity(customer, Activity.Kind.PHONE_VERIFIED, actor, phone=customer.phone)
    return customer
