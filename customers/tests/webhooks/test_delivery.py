"""Webhook delivery against a real HTTP receiver: signatures, order per customer, retries,
rollbacks, a killed worker, disabling, address safety and tenancy."""

import hashlib
import hmac
import io
import json
import socket
import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from conftest import requires_postgres
from customers import services, tasks, webhook_http
from customers.bulk import tables
from customers.models import Customer, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from customers.services import webhooks

SECRET = "whsec_test-secret"


def endpoint_for(business, url, events=("*",)):
    return services.create_endpoint(
        business=business, url=url, events=list(events), secret=SECRET, actor=None
    )


def order(business, external_id, phone="+14155550101", **extra):
    return services.record_order(
        business=business, external_id=external_id, phone=phone, amount="10.00", **extra
    ).order


def bodies(receiver):
    return [json.loads(request.body) for request in receiver.requests]


def make_due(*deliveries):
    WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_a_delivery_is_signed_enveloped_and_carries_the_event_headers(
    business, receiver, django_capture_on_commit_callbacks
):
    endpoint_for(business, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        recorded = order(business, "A-1", first_name="Ann", email="ann@example.com")

    types = [request.headers["X-Event-Type"] for request in receiver.requests]
    assert types == ["customers.customer.created", "orders.order.recorded"]
    request = receiver.requests[1]
    expected = hmac.new(
        SECRET.encode(), request.headers["X-Timestamp"].encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    assert request.headers["X-Signature"] == f"sha256={expected}"
    assert abs(int(request.headers["X-Timestamp"]) - timezone.now().timestamp()) < 60
    envelope = json.loads(request.body)
    assert set(envelope) == {"id", "type", "occurred_at", "business", "data"}
    assert envelope["id"] == request.headers["X-Event-Id"]
    assert envelope["business"] == business.pk
    assert envelope["data"]["orders"][0]["id"] == recorded.pk
    assert envelope["data"]["orders"][0]["amount"] == "10.00"
    # Ids and facts only: the customer's name, email and phone stay home.
    assert (
        b"Ann" not in request.body and b"ann@example.com" not in request.body and b"555" not in request.body
    )
    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == ["delivered", "delivered"]
    attempt = WebhookAttempt.objects.filter(succeeded=True).first()
    assert attempt.response_code == 200
    assert len(attempt.response_excerpt.encode()) == WebhookAttempt.RESPONSE_EXCERPT_BYTES


def test_an_endpoint_receives_only_the_event_types_it_subscribed_to(
    business, receiver, django_capture_on_commit_callbacks
):
    endpoint_for(business, receiver.url, events=["orders.order.recorded"])
    with django_capture_on_commit_callbacks(execute=True):
        order(business, "A-1")
    assert [request.headers["X-Event-Type"] for request in receiver.requests] == ["orders.order.recorded"]


def test_a_business_without_endpoints_writes_no_events(business):
    order(business, "A-1")
    assert WebhookEvent.objects.count() == 0


def test_nothing_is_sent_for_a_rolled_back_change(business, receiver, django_capture_on_commit_callbacks):
    endpoint_for(business, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            order(business, "A-1")
            raise RuntimeError("the request failed after the order")
    tasks.deliver_webhooks()
    assert receiver.requests == []
    assert WebhookEvent.objects.count() == 0


def test_nothing_is_lost_when_the_worker_dies_between_commit_and_delivery(business, receiver):
    endpoint_for(business, receiver.url)
    # Committed, but the task queued after the commit never ran (the worker was killed).
    order(business, "A-1")
    assert receiver.requests == []
    tasks.deliver_webhooks()  # the minute schedule
    assert len(receiver.requests) == 2
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_a_delivery_claimed_by_a_worker_that_died_is_sent_after_its_lease(business, receiver):
    endpoint_for(business, receiver.url, events=["orders.order.recorded"])
    order(business, "A-1")
    claimed = webhooks.claim_due()
    assert len(claimed) == 1
    # The worker dies here: the delivery is not due again before its lease ends.
    assert webhooks.claim_due() == []
    make_due(*claimed)
    tasks.deliver_webhooks()
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == "delivered"


def test_events_of_one_customer_arrive_in_order_even_when_the_first_is_retried(business, receiver):
    endpoint_for(business, receiver.url, events=["orders.order.recorded"])
    first = order(business, "A-1")
    order(business, "A-2")
    other = order(business, "B-1", phone="+14155550199")
    failures = iter([500])
    receiver.answer_for = lambda body: next(failures, None) if b'"A-1"' in body else None

    tasks.deliver_webhooks()
    sent = [body["data"]["orders"][0]["id"] for body in bodies(receiver)]
    # A-1 failed and waits for its retry; A-2 waits behind it; another customer's goes out.
    assert sorted(sent) == [first.pk, other.pk]
    waiting = WebhookDelivery.objects.get(event__data__orders__0__id=first.pk)
    assert waiting.status == "pending" and waiting.attempts == 1 and waiting.last_response_code == 500
    assert waiting.next_attempt_at > timezone.now() + timedelta(seconds=10)

    make_due(waiting)
    tasks.deliver_webhooks()
    sent = [body["data"]["orders"][0]["external_id"] for body in bodies(receiver)]
    assert sent[2:] == ["A-1", "A-2"]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_a_timeout_is_retried_later_with_the_attempt_in_the_log(business, receiver):
    endpoint_for(business, receiver.url, events=["orders.order.recorded"])
    order(business, "A-1")
    receiver.answers = [("sleep", 1.5)]
    tasks.deliver_webhooks()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.last_response_code is None
    attempt = delivery.log.get()
    assert "No answer within" in attempt.error and attempt.duration_ms >= 400
    make_due(delivery)
    tasks.deliver_webhooks()
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2


@pytest.mark.parametrize("code, retried", [(400, False), (404, False), (408, True), (429, True), (503, True)])
def test_client_errors_are_not_retried_but_408_and_429_are(business, receiver, code, retried):
    endpoint_for(business, receiver.url, events=["orders.order.recorded"])
    order(business, "A-1")
    receiver.answers = [code]
    tasks.deliver_webhooks()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == ("pending" if retried else "failed")
    assert delivery.last_response_code == code


def test_a_delivery_failing_for_a_day_is_marked_failed(business, receiver):
    endpoint_for(business, receiver.url, events=["orders.order.recorded"])
    order(business, "A-1")
    WebhookDelivery.objects.update(created_at=timezone.now() - timedelta(hours=23, minutes=59, seconds=50))
    receiver.answers = [500]
    tasks.deliver_webhooks()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    assert "given up" in delivery.log.get().error


def test_backoff_grows_exponentially_with_jitter_up_to_an_hour():
    for attempts, longest in [(1, 30), (2, 60), (3, 120), (8, 3600), (20, 3600)]:
        delays = {webhooks.retry_delay(attempts).total_seconds() for _ in range(20)}
        assert all(longest / 2 <= delay <= longest for delay in delays)
        assert len(delays) > 1


def test_an_endpoint_failing_for_a_day_is_disabled_with_a_notice(business, owner, client_for, receiver):
    endpoint = endpoint_for(business, receiver.url, events=["orders.order.recorded"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(hours=25))
    order(business, "A-1")
    receiver.answers = [500]
    tasks.deliver_webhooks()
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert "Disabled on" in endpoint.disabled_reason
    # A disabled endpoint gets no new events.
    order(business, "A-2")
    tasks.deliver_webhooks()
    assert len(receiver.requests) == 1
    page = client_for(owner).get(f"/settings/webhooks/{endpoint.pk}/").content.decode()
    assert "every delivery failed since" in page
    # Activating it again forgets its failures.
    services.update_endpoint(
        endpoint=endpoint, actor=owner, url=endpoint.url, events=endpoint.events, active=True
    )
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.failing_since is None and endpoint.disabled_reason == ""


def test_a_success_ends_the_failure_streak(business, receiver):
    endpoint = endpoint_for(business, receiver.url, events=["orders.order.recorded"])
    order(business, "A-1")
    receiver.answers = [500]
    tasks.deliver_webhooks()
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None
    make_due(*WebhookDelivery.objects.all())
    tasks.deliver_webhooks()
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.active


def test_loopback_and_private_addresses_are_refused_unless_the_setting_allows_them(
    business, receiver, settings
):
    endpoint_for(business, receiver.url, events=["orders.order.recorded"])
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    order(business, "A-1")
    tasks.deliver_webhooks()
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    assert "private or local address" in delivery.log.get().error or "https" in delivery.log.get().error


@pytest.mark.parametrize(
    "address, public",
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("0.0.0.0", False),
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
    ],
)
def test_the_address_check(address, public):
    assert webhook_http.is_public(address) is public


def test_a_host_that_also_resolves_to_a_private_address_is_refused(monkeypatch):
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", 443)),
    ]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)
    with pytest.raises(webhook_http.RefusedAddress):
        webhook_http.resolve("rebind.example.com", 443, allow_private=False)


def test_the_connection_goes_to_the_address_that_was_checked(receiver, monkeypatch):
    """The host is resolved once, at send time, and the socket connects to that address
    (not to a second answer of the DNS): the receiver sees the URL's host name."""
    calls = []

    def resolve_once(host, port, *args, **kwargs):
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve_once)
    response = webhook_http.post(
        f"http://hooks.example.test:{receiver.port}/in",
        b"{}",
        {},
        timeout=2,
        max_bytes=100,
        allow_private=True,
    )
    assert response.status == 200 and len(response.excerpt) == 100
    assert calls == ["hooks.example.test"]
    assert receiver.requests[0].headers["Host"] == f"hooks.example.test:{receiver.port}"


def test_plain_http_and_private_urls_are_refused_at_creation_in_production(business, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(Exception) as refused:
        endpoint_for(business, "http://example.com/hook")
    assert "https" in str(refused.value)
    assert endpoint_for(business, "https://example.com/hook").pk


def test_redirects_are_not_followed(business, receiver):
    endpoint_for(business, receiver.url, events=["orders.order.recorded"])
    order(business, "A-1")
    receiver.answers = [302]
    tasks.deliver_webhooks()
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == "failed"


def test_an_endpoint_only_ever_receives_its_business_events(
    business, other_business, receiver, other_receiver, django_capture_on_commit_callbacks
):
    endpoint_for(business, receiver.url)
    endpoint_for(other_business, other_receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        order(business, "A-1")
        order(other_business, "G-1", phone="+442079460958")
    assert {body["business"] for body in bodies(receiver)} == {business.pk}
    assert {body["business"] for body in bodies(other_receiver)} == {other_business.pk}
    assert len(receiver.requests) == len(other_receiver.requests) == 2


def test_contact_changes_status_changes_and_merges_send_their_events(business, receiver, support):
    endpoint_for(business, receiver.url)
    first = order(business, "A-1")
    customer = first.customer
    services.update_contact(customer=customer, actor=support, email="new@example.com", first_name="Bo")
    services.change_order_status(order=first, status="refunded", actor=support)
    duplicate, _ = services.get_or_create_customer(business=business, phone="+14155550102")
    services.merge_customers(
        survivor=customer, merged=[duplicate], field_choices={}, reason="same", actor=support
    )
    tasks.deliver_webhooks()
    received = bodies(receiver)
    # The duplicate's creation is its own customer's event; the survivor's arrive in order.
    assert {"customer_ids": [duplicate.pk]} in [
        body["data"] for body in received if body["type"] == "customers.customer.created"
    ]
    events = [
        (body["type"], body["data"])
        for body in received
        if body["data"].get("customer_ids") != [duplicate.pk]
    ]
    assert [kind for kind, _ in events] == [
        "customers.customer.created",
        "orders.order.recorded",
        "customers.customer.updated",
        "orders.order.status_changed",
        "customers.customer.merged",
    ]
    assert events[2][1] == {"customer_ids": [customer.pk], "fields": ["email", "first_name"]}
    assert events[3][1]["orders"][0]["old_status"] == "completed"
    assert events[3][1]["orders"][0]["status"] == "refunded"
    assert events[4][1]["survivor_id"] == customer.pk and events[4][1]["merged_ids"] == [duplicate.pk]


@contextmanager
def csv_table(text):
    with tables.open_table(io.BytesIO(text.encode()), encoding="auto") as table:
        yield table


def test_an_import_sends_one_event_per_chunk_with_many_ids(business, owner, receiver):
    endpoint_for(business, receiver.url, events=["customers.customer.created", "orders.order.recorded"])
    rows = "phone,first_name\n" + "".join(f"+1415555{1000 + n},Name{n}\n" for n in range(30))
    services.import_rows(business=business, actor=owner, kind="customers", open_table=lambda: csv_table(rows))
    orders = "external_id,phone,amount\n" + "".join(f"I-{n},+1415555{1000 + n},5.00\n" for n in range(30))
    services.import_rows(business=business, actor=owner, kind="orders", open_table=lambda: csv_table(orders))
    tasks.deliver_webhooks()
    # Two events of many customers each: sent side by side, in either order.
    received = {body["type"]: body for body in bodies(receiver)}
    assert sorted(received) == ["customers.customer.created", "orders.order.recorded"]
    created, recorded = received["customers.customer.created"], received["orders.order.recorded"]
    ids = sorted(Customer.objects.filter(business=business).values_list("pk", flat=True))
    assert sorted(created["data"]["customer_ids"]) == ids and len(ids) == 30
    assert sorted(entry["customer_id"] for entry in recorded["data"]["orders"]) == ids


def test_the_retention_deletes_events_and_their_log_after_30_days(business, receiver):
    endpoint_for(business, receiver.url, events=["orders.order.recorded"])
    order(business, "A-1")
    order(business, "A-2")
    tasks.deliver_webhooks()
    WebhookEvent.objects.filter(data__orders__0__external_id="A-1").update(
        occurred_at=timezone.now() - timedelta(days=31)
    )
    assert tasks.purge_webhook_log() == 1
    assert list(WebhookEvent.objects.values_list("data__orders__0__external_id", flat=True)) == ["A-2"]
    assert WebhookDelivery.objects.count() == 1 and WebhookAttempt.objects.count() == 1


def test_commits_queue_a_delivery_task_only_when_none_is_waiting(business, receiver, monkeypatch):
    queued = []
    monkeypatch.setattr(webhooks, "async_task", lambda *args, **kwargs: queued.append(args))
    endpoint_for(business, receiver.url, events=["orders.order.recorded"])
    webhooks.request_delivery()
    webhooks.request_delivery()
    assert len(queued) == 1
    # The task starts: the commits after it queue the next one, and it sees those before.
    order(business, "A-1")
    tasks.deliver_webhooks()
    assert len(receiver.requests) == 1
    webhooks.request_delivery()
    assert len(queued) == 2


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_claim_the_same_delivery(business, monkeypatch):
    """A worker's claim skips the rows another worker's claim holds (SKIP LOCKED) and is not
    blocked by them; what it takes is not due again for the other."""
    monkeypatch.setattr(webhooks, "request_delivery", lambda: None)  # no worker after the commits
    endpoint_for(business, "https://hooks.example.com/in", events=["orders.order.recorded"])
    for number in range(6):
        order(business, f"A-{number}", phone=f"+1415555010{number}")
    holding, release, seen = threading.Event(), threading.Event(), {}

    def first_worker():
        try:
            with transaction.atomic():
                seen["first"] = list(
                    webhooks.due_deliveries(timezone.now())
                    .order_by("id")
                    .select_for_update(skip_locked=True, of=("self",))
                    .values_list("id", flat=True)[:3]
                )
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    worker = threading.Thread(target=first_worker)
    worker.start()
    assert holding.wait(10)
    second = [delivery.pk for delivery in webhooks.claim_due()]
    release.set()
    worker.join()
    assert len(seen["first"]) == 3 and len(second) == 3
    assert not set(seen["first"]) & set(second)
    # The first worker's transaction ended without taking them: they are due again.
    assert sorted(delivery.pk for delivery in webhooks.claim_due()) == sorted(seen["first"])
