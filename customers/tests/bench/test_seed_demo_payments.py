from decimal import Decimal

import pytest
from django.db.models import Count, F, Sum

from customers.models import Order, Payment, Refund
from customers.tests.bench.test_seed_demo import fast_password_hashing, seed  # noqa: F401

pytestmark = pytest.mark.django_db


def test_seed_demo_pays_for_every_order_with_failures_refunds_and_cash_on_delivery():
    seed("--customers", "300", "--orders", "900", "--seed", "7")

    unpaid = Order.objects.exclude(status=Order.Status.BLOCKED).annotate(n=Count("payments")).filter(n=0)
    assert not unpaid.exists()
    assert not Payment.objects.filter(order__status=Order.Status.BLOCKED).exists()
    statuses = set(Payment.objects.values_list("status", flat=True))
    assert statuses >= {"succeeded", "failed", "refunded", "partially_refunded"}
    assert Payment.objects.filter(method="cash_on_delivery").exists()
    # Refunds add up to what each payment gave back; refunded orders gave back everything.
    for payment in Payment.objects.filter(refunded_amount__gt=0).annotate(total=Sum("refunds__amount")):
        assert payment.total == payment.refunded_amount
    assert Refund.objects.count() == Payment.objects.filter(refunded_amount__gt=0).count()
    refunded = Payment.objects.filter(order__status=Order.Status.REFUNDED, status="refunded")
    assert refunded.count() == Order.objects.filter(status=Order.Status.REFUNDED).count()
    assert not refunded.exclude(amount=F("order__amount")).exists()
    assert Payment.objects.filter(status="partially_refunded", order__status="completed").aggregate(
        s=Sum("refunded_amount")
    )["s"] > Decimal(0)
