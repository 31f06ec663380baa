"""What the privacy receivers cost the orders API: an order creating its customer (the bench
business, seeded as the demo's, opts its customers in to email at sign-up: a consent event
each) and an order of a known customer carrying opt-ins (recorded as consent events), each
beside the same request with the privacy receiver disconnected."""

import json
import secrets

from django.test import Client
from django.utils import timezone

from customers import demo
from customers import services as customer_services
from customers.benchmarks.harness import Figure, allowed_host
from customers.models import Customer
from customers.signals import order_recorded
from privacy import receivers

RECEIVER = "privacy.order_recorded"
# Far above the bench business's customers: phones no customer has yet.
FRESH_PHONES = 50_000_000


def figures(context):
    business = context.business
    _, secret = customer_services.create_api_key(business=business, name="bench privacy", actor=None)
    client = Client(HTTP_HOST=allowed_host())
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    token = secrets.token_hex(4)
    numbers = iter(range(10**9))
    known = list(Customer.objects.filter(business=business).live().order_by("?")[:200])

    def post(phone, **fields):
        body = {
            "external_id": f"bench-privacy-{token}-{next(numbers)}",
            "phone": phone,
            "amount": "12.50",
            "placed_at": timezone.now().isoformat(),
            **fields,
        }
        response = client.post("/api/v1/orders", json.dumps(body), "application/json", secure=True, **headers)
        if response.status_code != 201:
            raise AssertionError(f"POST /api/v1/orders answered {response.status_code}")

    def without_receiver(request):
        def run(number):
            order_recorded.disconnect(dispatch_uid=RECEIVER)
            try:
                request(number)
            finally:
                order_recorded.connect(receivers.record_checkout_consents, dispatch_uid=RECEIVER)

        return run

    fresh = iter(range(FRESH_PHONES, FRESH_PHONES + 10**6))

    def new_customer(run):
        post(demo.phone_for_index(next(fresh)))

    def opt_ins(run):
        # Alternating, so that every order changes the consents.
        post(known[run % len(known)].phone, email_opt_in=run % 2 == 0, sms_opt_in=run % 2 == 1)

    runs = 5 * context.repeat
    yield Figure(
        "privacy.order_new_customer", new_customer, without_receiver(new_customer), runs=runs, unit="orders"
    )
    yield Figure("privacy.order_opt_ins", opt_ins, without_receiver(opt_ins), runs=runs, unit="orders")
