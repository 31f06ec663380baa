"""Webhooks: the endpoints of a business, the transactional outbox of domain events and
their delivery.

Every app writes its events with `emit_event` inside the transaction of the change that
caused them: the event and one delivery per endpoint that wants it are rows of that
transaction, so a rolled-back change sends nothing and a committed one is never lost. After
the commit a django-q2 task delivers them (`deliver_due`); the minute schedule picks up what
a killed worker left behind. Deliveries of one customer to one endpoint go out in the order
of their events: one waits while an earlier one is pending (retrying included)."""

import json
import random
import secrets
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_q.tasks import async_task

from customers import webhook_events, webhook_http
from customers.models import WebhookAttempt, WebhookDelivery, WebhookDispatch, WebhookEndpoint, WebhookEvent
from customers.services.audit import log_audit

Status = WebhookDelivery.Status

# Retried for a day, then failed; an endpoint whose attempts have all failed for a day is disabled.
RETRY_FOR = timedelta(hours=24)
DISABLE_AFTER = timedelta(hours=24)
FIRST_RETRY_SECONDS = 30
LONGEST_RETRY_SECONDS = 3600
# A claimed delivery is due again after this long: a worker killed while sending leaves it
# to the next one (the receiver may then see it twice; X-Event-Id tells).
CLAIM_LEASE = timedelta(seconds=120)
CLAIM_BATCH = 50
# One run of the task stops claiming after this long and leaves the rest to the next run.
RUN_BUDGET_SECONDS = 50
SEND_THREADS = 8
RETRIED_CODES = {408, 429}
# Bulk work (imports, recalculations, bulk actions) names this many customers per event.
EVENT_CHUNK = 1000


@dataclass(frozen=True)
class Event:
    type: str
    data: dict
    # The customer whose events must arrive in order; None for an event of many customers.
    customer_id: int | None = None


# Writing events ------------------------------------------------------------------------


def emit_event(*, business_id, type, data, customer_id=None):
    """Write one event (see customers.webhook_events) in the caller's transaction."""
    emit_events(business_id=business_id, events=[Event(type, data, customer_id)])


# Without a savepoint: no caller goes on after a failure here, and a savepoint would cost
# every recorded order two more round trips.
@transaction.atomic(savepoint=False)
def emit_events(*, business_id, events):
    """Write these events and their deliveries in the caller's transaction, and deliver
    them after the commit. A business without an endpoint that wants them costs one query."""
    endpoints = list(
        WebhookEndpoint.objects.filter(business_id=business_id, active=True).only("id", "events")
    )
    wanted = [(event, [e for e in endpoints if e.wants(event.type)]) for event in events]
    wanted = [(event, targets) for event, targets in wanted if targets]
    if not wanted:
        return []
    now = timezone.now()
    rows = WebhookEvent.objects.bulk_create(
        WebhookEvent(
            business_id=business_id, uid=uuid.uuid4(), type=event.type, occurred_at=now, data=event.data
        )
        for event, _ in wanted
    )
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            business_id=business_id,
            event=row,
            endpoint=endpoint,
            customer_id=event.customer_id,
            next_attempt_at=now,
            created_at=now,
        )
        for row, (event, targets) in zip(rows, wanted, strict=True)
        for endpoint in targets
    )
    deliver_after_commit()
    return rows


def customer_updated(customer_id, fields):
    """customers.customer.updated names the fields that changed, not their values."""
    return Event(
        "customers.customer.updated", {"customer_ids": [customer_id], "fields": sorted(fields)}, customer_id
    )


def emit_for_customers(*, business_id, type, customer_ids, **data):
    """Events of bulk work: one per chunk of EVENT_CHUNK customers, each naming its `customer_ids`."""
    ids = sorted(set(customer_ids))
    if not ids or not wanted(business_id, type):
        return
    emit_events(
        business_id=business_id,
        events=[
            Event(type, {"customer_ids": chunk, **data}, chunk[0] if len(chunk) == 1 else None)
            for chunk in (ids[start : start + EVENT_CHUNK] for start in range(0, len(ids), EVENT_CHUNK))
        ],
    )


def wanted(business_id, type):
    """Whether an active endpoint of the business wants this event type (before costly work)."""
    return any(
        endpoint.wants(type)
        for endpoint in WebhookEndpoint.objects.filter(business_id=business_id, active=True).only("events")
    )


def deliver_after_commit():
    transaction.on_commit(request_delivery)


def request_delivery():
    """Queue the delivery task unless one is queued and not started yet (which will see this
    commit): one cheap insert instead of a task per commit, on the order API's path."""
    table = connection.ops.quote_name(WebhookDispatch._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, requested_at) VALUES (1, %s) ON CONFLICT (id) DO NOTHING RETURNING id",
            [timezone.now()],
        )
        if cursor.fetchone() is None:
            return
    async_task("customers.tasks.deliver_webhooks", group="webhooks")


# Endpoints ----------------------------------------------------------------------------


def new_secret():
    return "whsec_" + secrets.token_urlsafe(32)


def clean_endpoint(*, url, events, secret):
    """The endpoint's fields as stored, or ValidationError {field: message}."""
    errors = {}
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES
    url = (url or "").strip() if isinstance(url, str) else ""
    try:
        URLValidator(schemes=["https", "http"] if allow_private else ["https"])(url)
        if len(url) > WebhookEndpoint._meta.get_field("url").max_length:
            raise ValidationError("The URL is too long.")
    except ValidationError:
        errors["url"] = "Enter an https:// URL." if not allow_private else "Enter an http(s):// URL."
    if not isinstance(events, list) or not events or not all(isinstance(name, str) for name in events):
        errors["events"] = "Choose at least one event type, or “*” for all of them."
    else:
        unknown = [
            name
            for name in events
            if name != WebhookEndpoint.ALL_EVENTS and not webhook_events.is_known(name)
        ]
        if unknown:
            errors["events"] = f"Unknown event types: {', '.join(unknown)}."
        events = [WebhookEndpoint.ALL_EVENTS] if WebhookEndpoint.ALL_EVENTS in events else sorted(set(events))
    if not isinstance(secret, str) or not secret.strip() or len(secret) > 200:
        errors["secret"] = "Give a secret of 1 to 200 characters (the receiver checks signatures with it)."
    if errors:
        raise ValidationError(errors)
    return url, events, secret.strip()


@transaction.atomic
def create_endpoint(*, business, url, events, secret, actor, active=True, description=""):
    url, events, secret = clean_endpoint(url=url, events=events, secret=secret)
    endpoint = WebhookEndpoint.objects.create(
        business=business, url=url, events=events, secret=secret, active=active, description=description
    )
    log_audit(
        business=business,
        actor=actor,
        action="webhook.created",
        target=url,
        endpoint_id=endpoint.pk,
        events=events,
    )
    return endpoint


@transaction.atomic
def update_endpoint(*, endpoint, actor, url, events, secret=None, active=True, description=None):
    """Change an endpoint (`secret` None keeps it). Activating it again forgets its failures."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    url, events, secret = clean_endpoint(url=url, events=events, secret=secret or endpoint.secret)
    changed = [
        name
        for name, value in [("url", url), ("events", events), ("secret", secret), ("active", active)]
        if getattr(endpoint, name) != value
    ]
    if active and not endpoint.active:
        endpoint.failing_since, endpoint.disabled_reason = None, ""
    endpoint.url, endpoint.events, endpoint.secret, endpoint.active = url, events, secret, active
    if description is not None:
        endpoint.description = description
    endpoint.save()
    if changed:
        log_audit(
            business=endpoint.business,
            actor=actor,
            action="webhook.changed",
            target=url,
            endpoint_id=endpoint.pk,
            fields=changed,
        )
    return endpoint


@transaction.atomic
def delete_endpoint(*, endpoint, actor):
    log_audit(
        business=endpoint.business,
        actor=actor,
        action="webhook.deleted",
        target=endpoint.url,
        endpoint_id=endpoint.pk,
    )
    endpoint.delete()


@transaction.atomic
def send_test_event(*, endpoint, actor):
    """A `webhook.test` event to this endpoint alone, whatever it subscribes to."""
    if not endpoint.active:
        raise ValidationError("Activate the endpoint first: inactive endpoints receive nothing.")
    now = timezone.now()
    event = WebhookEvent.objects.create(
        business_id=endpoint.business_id,
        uid=uuid.uuid4(),
        type=webhook_events.TEST,
        occurred_at=now,
        data={"endpoint_id": endpoint.pk, "message": "A test event from the customer back office."},
    )
    delivery = WebhookDelivery.objects.create(
        business_id=endpoint.business_id, event=event, endpoint=endpoint, next_attempt_at=now, created_at=now
    )
    log_audit(
        business=endpoint.business,
        actor=actor,
        action="webhook.tested",
        target=endpoint.url,
        endpoint_id=endpoint.pk,
    )
    deliver_after_commit()
    return delivery


@transaction.atomic
def redeliver(*, delivery, actor):
    """Send a delivery's event again, by hand: a new delivery, retried for a day of its own."""
    now = timezone.now()
    again = WebhookDelivery.objects.create(
        business_id=delivery.business_id,
        event_id=delivery.event_id,
        endpoint_id=delivery.endpoint_id,
        customer_id=delivery.customer_id,
        next_attempt_at=now,
        created_at=now,
    )
    log_audit(
        business=delivery.endpoint.business,
        actor=actor,
        action="webhook.redelivered",
        target=delivery.endpoint.url,
        delivery_id=delivery.pk,
        new_delivery_id=again.pk,
    )
    deliver_after_commit()
    return again


# Delivering ---------------------------------------------------------------------------


def due_deliveries(now):
    """Pending deliveries due now, of active endpoints, with no earlier delivery of the same
    customer to the same endpoint still pending."""
    earlier = WebhookDelivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        customer_id=OuterRef("customer_id"),
        status=Status.PENDING,
        id__lt=OuterRef("id"),
    )
    return WebhookDelivery.objects.filter(
        status=Status.PENDING, next_attempt_at__lte=now, endpoint__active=True
    ).exclude(Exists(earlier))


@transaction.atomic
def claim_due(*, limit=CLAIM_BATCH, now=None):
    """Take up to `limit` due deliveries for this worker: rows another worker holds are
    skipped (SKIP LOCKED), and the ones taken are not due again for CLAIM_LEASE."""
    now = now or timezone.now()
    ids = list(
        due_deliveries(now)
        .order_by("id")
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("id", flat=True)[:limit]
    )
    WebhookDelivery.objects.filter(pk__in=ids).update(next_attempt_at=now + CLAIM_LEASE)
    return list(WebhookDelivery.objects.filter(pk__in=ids).select_related("event", "endpoint").order_by("id"))


def start_delivery():
    """The task's start: commits from now on queue the next task."""
    WebhookDispatch.objects.all().delete()
    return deliver_due()


def deliver_due(*, budget_seconds=RUN_BUDGET_SECONDS):
    """Deliver what is due until nothing is or the budget is spent; returns the attempts made.
    A claimed batch holds at most one delivery per customer and endpoint, so its requests go
    out side by side (SEND_THREADS at once) without breaking any customer's order."""
    started, attempted = time.monotonic(), 0
    with ThreadPoolExecutor(max_workers=SEND_THREADS) as pool:
        while time.monotonic() - started < budget_seconds:
            claimed = claim_due()
            if not claimed:
                break
            record_attempts(list(zip(claimed, pool.map(send, claimed), strict=True)))
            attempted += len(claimed)
    return attempted


def request_headers(event, endpoint, body, timestamp):
    return {
        "X-Event-Id": str(event.uid),
        "X-Event-Type": event.type,
        "X-Timestamp": str(timestamp),
        "X-Signature": webhook_http.signature(endpoint.secret, timestamp, body),
    }


def send(delivery):
    """One signed HTTP attempt of a claimed delivery (no database access: it runs in a thread)."""
    event, endpoint = delivery.event, delivery.endpoint
    body = json.dumps(event.envelope(), separators=(",", ":")).encode()
    return webhook_http.post(
        endpoint.url,
        body,
        request_headers(event, endpoint, body, int(time.time())),
        timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        max_bytes=WebhookAttempt.RESPONSE_EXCERPT_BYTES,
        allow_private=settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
    )


def outcome(response):
    """delivered, retry or failed, for an answer (or its absence)."""
    if response.status is not None and 200 <= response.status < 300:
        return Status.DELIVERED
    if response.refused:
        return Status.FAILED
    if response.status is None or response.status >= 500 or response.status in RETRIED_CODES:
        return "retry"
    # Other 4xx: the receiver refuses this request, and would again. 3xx: not followed.
    return Status.FAILED


def retry_delay(attempts):
    """Exponential backoff with jitter: 30 s, 1 min, 2 min, ... up to an hour, each 50-100 %."""
    longest = min(LONGEST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (attempts - 1))
    return timedelta(seconds=random.uniform(longest / 2, longest))


@transaction.atomic
def record_attempts(sent):
    """Log the attempts of a batch of (delivery, response) and move each delivery on:
    delivered, retried later, or failed (not retryable, or retried for a day)."""
    now = timezone.now()
    attempts, succeeded = [], {}
    for delivery, response in sent:
        result, error = outcome(response), response.error
        if result == Status.FAILED and response.status is not None:
            error = f"HTTP {response.status}: not retried."
        elif result == "retry":
            delivery.next_attempt_at = now + retry_delay(delivery.attempts + 1)
            result = Status.PENDING
            if delivery.next_attempt_at > delivery.created_at + RETRY_FOR:
                result, error = Status.FAILED, f"{error} Retried for a day: given up.".strip()
        delivery.status, delivery.attempts = result, delivery.attempts + 1
        delivery.last_attempt_at, delivery.last_response_code = now, response.status
        attempts.append(
            WebhookAttempt(
                business_id=delivery.business_id,
                delivery=delivery,
                attempted_at=now,
                succeeded=result == Status.DELIVERED,
                response_code=response.status,
                duration_ms=response.duration_ms,
                response_excerpt=response.excerpt.decode("utf-8", errors="replace"),
                error=error[:300],
            )
        )
        endpoint = delivery.endpoint
        succeeded[endpoint.pk] = succeeded.get(endpoint.pk, False) or result == Status.DELIVERED
    WebhookAttempt.objects.bulk_create(attempts)
    WebhookDelivery.objects.bulk_update(
        [delivery for delivery, _ in sent],
        ["status", "attempts", "last_attempt_at", "last_response_code", "next_attempt_at"],
    )
    endpoints = {delivery.endpoint.pk: delivery.endpoint for delivery, _ in sent}
    for pk, endpoint in endpoints.items():
        note_endpoint_health(endpoint, succeeded=succeeded[pk], now=now)


def note_endpoint_health(endpoint, *, succeeded, now):
    """A success clears the endpoint's failure streak; a day of failures disables it."""
    endpoints = WebhookEndpoint.objects.filter(pk=endpoint.pk)
    if succeeded:
        if endpoint.failing_since is not None:
            endpoints.update(failing_since=None)
            endpoint.failing_since = None
        return
    if endpoint.failing_since is None:
        endpoints.filter(failing_since__isnull=True).update(failing_since=now)
        endpoint.failing_since = now
    elif endpoint.failing_since <= now - DISABLE_AFTER:
        reason = (
            f"Disabled on {now:%Y-%m-%d %H:%M} UTC: every delivery failed since "
            f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC. Fix the receiver, then activate it again."
        )
        if endpoints.filter(active=True).update(active=False, disabled_reason=reason):
            log_audit(
                business=endpoint.business,
                actor=None,
                action="webhook.disabled",
                target=endpoint.url,
                endpoint_id=endpoint.pk,
            )


def purge_webhook_log(*, now=None):
    """Delete events (with their deliveries and attempts) older than WEBHOOK_RETENTION_DAYS."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.WEBHOOK_RETENTION_DAYS)
    deleted = 0
    while True:
        ids = list(WebhookEvent.objects.filter(occurred_at__lt=cutoff).values_list("id", flat=True)[:5000])
        if not ids:
            return deleted
        with transaction.atomic():
            WebhookAttempt.objects.filter(delivery__event_id__in=ids).delete()
            WebhookDelivery.objects.filter(event_id__in=ids).delete()
            WebhookEvent.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
