"""Generated JSON bodies for the payment endpoints and an order's `payments`: a 2xx or 4xx
JSON answer, never a 500, and the business's pages still answer 200 afterwards."""

from hypothesis import given, settings
from hypothesis import strategies as st

from customers import services
from customers.models import Customer, Payment
from customers.tests.api.test_api_fuzz import FUZZ_SETTINGS, NEW_ORDER, VALID_ORDER, bodies, mutated, post
from customers.tests.services.test_stored_times import assert_the_pages_of_the_business_answer_200

VALID_PAYMENT = {
    "amount": "42.50",
    "currency": "USD",
    "method": "card",
    "status": "succeeded",
    "provider": "stripe",
    "processed_at": "2026-11-01T12:00:05Z",
}
NEW_PAYMENT = st.fixed_dictionaries(
    {"transaction_id": st.integers(min_value=1, max_value=10**9).map("ch_{}".format)}
)
PAYMENTS = bodies(
    [mutated(VALID_PAYMENT, NEW_PAYMENT), mutated(VALID_PAYMENT, NEW_PAYMENT)],
    ["transaction_id", *VALID_PAYMENT],
)
REFUNDS = bodies([mutated({"amount": "0.50", "reason": "Cold"})], ["amount", "reason"])


def test_generated_payment_bodies_never_break_an_endpoint_nor_a_page(business, owner, client, client_for):
    secret = services.create_api_key(business=business, name="Fuzz", actor=None)[1]
    order = services.record_order(
        business=business, external_id="P-1", phone="+14155550101", amount="42.50"
    ).order

    @settings(FUZZ_SETTINGS, max_examples=80)
    @given(
        st.builds(
            lambda order, payment: {**VALID_ORDER, **order, "payments": [payment]},
            NEW_ORDER,
            mutated(VALID_PAYMENT, NEW_PAYMENT),
        )
    )
    def post_orders(body):
        post(client, "/api/v1/orders", secret, body)

    @settings(FUZZ_SETTINGS, max_examples=80)
    @given(PAYMENTS)
    def post_payments(body):
        post(client, f"/api/v1/orders/{order.pk}/payments", secret, body)

    post_orders()
    post_payments()
    payments = list(Payment.objects.filter(order=order, status="succeeded").values_list("pk", flat=True))
    assert payments

    @settings(FUZZ_SETTINGS, max_examples=80)
    @given(st.sampled_from(payments), REFUNDS)
    def post_refunds(payment, body):
        post(client, f"/api/v1/payments/{payment}/refunds", secret, body)

    post_refunds()
    for payment in Payment.objects.all():
        assert 0 <= payment.refunded_amount <= payment.amount
    assert_the_pages_of_the_business_answer_200(client_for(owner), Customer.objects.live().first())
