"""Figures of the webhooks for `manage.py bench`: the order API with an active endpoint
against the same without the events (today's api.orders), and the delivery throughput of one
worker to a receiver on this machine."""

import http.client
import http.server
import json
import threading
from unittest import mock

from django.db import transaction
from django.test import Client, override_settings

from customers import services
from customers.benchmarks.customers import ingestion_figure
from customers.benchmarks.harness import Figure, allowed_host
from customers.models import Customer, WebhookDelivery, WebhookEndpoint
from customers.services import orders as order_services
from customers.services.webhooks import Event

EVENTS_PER_RUN = 100
# The receiver listens on 127.0.0.1, which production settings refuse.
LOCAL = override_settings(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True)


class Server(http.server.ThreadingHTTPServer):
    # The default backlog of 5 drops connections that parallel senders open at once (the
    # client then waits a second to retry).
    request_queue_size = 128


class LocalReceiver:
    """An HTTP server in a thread that answers every POST with 200 at once."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def figures(context):
    if context.wants("api.orders_with_webhook", "webhooks"):
        receiver = LocalReceiver()
        with LOCAL:
            endpoint = services.create_endpoint(
                business=context.business, url=receiver.url, events=["*"], secret="bench", actor=None
            )
        try:
            if context.wants("api.orders_with_webhook"):
                yield orders_figure(context)
            # The deliveries the API figure queued stay out of the throughput figure.
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
            if context.wants("webhooks.delivery"):
                with LOCAL:
                    measured = services.create_endpoint(
                        business=context.business,
                        url=receiver.url,
                        events=["orders.order.recorded"],
                        secret="bench",
                        actor=None,
                    )
                yield delivery_figure(context, receiver, measured)
                WebhookEndpoint.objects.filter(pk=measured.pk).delete()
        finally:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
            receiver.stop()


def orders_figure(context):
    """POST /api/v1/orders with an active endpoint wanting every event (the events and their
    deliveries written in the order's transaction, the delivery task queued after the commit),
    against the same request without the events: the ratio is what webhooks cost an order."""
    business = context.business
    sample = list(Customer.objects.live().filter(business=business).order_by("?")[:50])
    api_key, secret = services.create_api_key(business=business, name="bench-webhooks", actor=None)
    client = Client(HTTP_HOST=allowed_host())
    with_events = ingestion_figure(
        client, business, sample, secret, runs=10 * context.repeat, rng=context.rng
    )

    def without_events(run):
        with mock.patch.object(order_services, "emit_events", lambda **kwargs: None):
            with_events.ours(run)

    def revoke():
        services.revoke_api_key(api_key=api_key, actor=None)
        return "ratio = with an active endpoint / without the events (api.orders today)"

    return Figure(
        "api.orders_with_webhook",
        with_events.ours,
        without_events,
        runs=10 * context.repeat,
        count_queries=True,
        unit="orders",
        note=revoke,
    )


def delivery_figure(context, receiver, endpoint):
    """One worker delivering EVENTS_PER_RUN events of as many customers (written in one
    transaction, then claimed, signed, POSTed and logged) to the local receiver, against the
    bare POSTs of the same bodies over one connection each."""
    business_id = context.business.pk
    body = json.dumps({"id": "x", "type": "orders.order.recorded", "data": {"orders": [{"id": 1}]}}).encode()

    def deliver(run):
        with transaction.atomic():
            services.emit_events(
                business_id=business_id,
                events=[
                    Event("orders.order.recorded", {"orders": [{"id": number}]}, number)
                    for number in range(EVENTS_PER_RUN)
                ],
            )
        with LOCAL:
            services.deliver_due()
        # (Where tasks run synchronously, the commit delivered them already.)
        # Of this endpoint only: the API figure's deliveries may still wait for a retry.
        left = WebhookDelivery.objects.filter(endpoint=endpoint, status="pending").count()
        if left:
            raise AssertionError(f"{left} deliveries left pending")

    def bare_posts(run):
        for _ in range(EVENTS_PER_RUN):
            connection = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=5)
            connection.request("POST", "/hook", body=body, headers={"Content-Type": "application/json"})
            connection.getresponse().read()
            connection.close()

    return Figure(
        "webhooks.delivery_throughput",
        deliver,
        bare_posts,
        runs=max(3, context.repeat // 5),
        unit="events",
        per_run=EVENTS_PER_RUN,
        note=lambda: "events/s of one worker (raw: bare POSTs to the same receiver)",
    )
