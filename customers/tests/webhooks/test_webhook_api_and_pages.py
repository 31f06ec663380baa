"""The webhook API contracts and Settings › Webhooks: endpoints, the delivery log, redelivery,
test events, roles and tenancy."""

import json

import pytest

from customers import services, tasks
from customers.models import AuditEntry, WebhookDelivery, WebhookEndpoint
from customers.tests.api.declared import assert_declared

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(business):
    return services.create_api_key(business=business, name="Scripts", actor=None)[1]


@pytest.fixture
def other_key(other_business):
    return services.create_api_key(business=other_business, name="Other", actor=None)[1]


def call(client, method, path, key, payload=None):
    response = getattr(client, method)(
        f"/api/v1/{path}",
        data=json.dumps(payload) if payload is not None else None,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert_declared(response)
    return response


def test_the_api_creates_reads_changes_and_deletes_a_webhook(client, key, business):
    created = call(
        client,
        "post",
        "webhooks",
        key,
        {"url": "https://hooks.example.com/in", "events": ["customers.customer.created"], "secret": "s3cret"},
    )
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "url", "events", "active"}
    assert body["url"] == "https://hooks.example.com/in" and body["active"] is True
    assert body["events"] == ["customers.customer.created"]
    endpoint = WebhookEndpoint.objects.get(pk=body["id"], business=business)
    assert endpoint.secret == "s3cret"

    assert call(client, "get", f"webhooks/{endpoint.pk}", key).json() == body
    changed = call(
        client,
        "put",
        f"webhooks/{endpoint.pk}",
        key,
        {"url": "https://hooks.example.com/v2", "events": ["*"]},
    )
    assert changed.status_code == 200 and changed.json()["events"] == ["*"]
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.example.com/v2" and endpoint.secret == "s3cret"
    assert call(client, "delete", f"webhooks/{endpoint.pk}", key).status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert list(AuditEntry.objects.values_list("action", flat=True).order_by("pk"))[-3:] == [
        "webhook.created",
        "webhook.changed",
        "webhook.deleted",
    ]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"url": "ftp://x.example.com", "events": ["*"], "secret": "s"}, "url"),
        ({"url": "https://x.example.com", "events": ["no.such.event"], "secret": "s"}, "events"),
        ({"url": "https://x.example.com", "events": [], "secret": "s"}, "events"),
        ({"url": "https://x.example.com", "events": ["*"]}, "secret"),
        ({"url": "https://x.example.com", "events": ["*"], "secret": ""}, "secret"),
        ({"url": "https://x.example.com", "events": ["*"], "secret": "s", "active": "yes"}, "active"),
        ({"url": "https://x.example.com", "events": ["*"], "secret": "s", "colour": "red"}, "colour"),
    ],
)
def test_bad_webhooks_are_400s_naming_the_field(client, key, payload, field):
    response = call(client, "post", "webhooks", key, payload)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_another_business_webhook_is_404_everywhere(client, key, other_key, other_business):
    theirs = services.create_endpoint(
        business=other_business, url="https://globex.example.com/in", events=["*"], secret="x", actor=None
    )
    for method, path in [
        ("get", f"webhooks/{theirs.pk}"),
        ("put", f"webhooks/{theirs.pk}"),
        ("delete", f"webhooks/{theirs.pk}"),
        ("post", f"webhooks/{theirs.pk}/test"),
        ("get", f"webhooks/{theirs.pk}/deliveries"),
    ]:
        payload = {"url": "https://x.example.com", "events": ["*"]} if method == "put" else None
        assert call(client, method, path, key, payload).status_code == 404, (method, path)
    assert call(client, "get", "webhooks", key).json() == {"results": [], "next": None}
    assert call(client, "get", f"webhooks/{theirs.pk}", other_key).status_code == 200
    assert call(client, "get", "webhooks", "nope").status_code == 401


def test_the_test_event_and_the_deliveries_list(
    client, key, business, receiver, django_capture_on_commit_callbacks
):
    endpoint = services.create_endpoint(
        business=business, url=receiver.url, events=["orders.order.recorded"], secret="s", actor=None
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = call(client, "post", f"webhooks/{endpoint.pk}/test", key)
    assert response.status_code == 202
    assert [request.headers["X-Event-Type"] for request in receiver.requests] == ["webhook.test"]
    for number in range(55):
        services.record_order(business=business, external_id=f"A-{number}", phone="+14155550101", amount="1")
    receiver.answers = [500]
    tasks.deliver_webhooks()

    page = call(client, "get", f"webhooks/{endpoint.pk}/deliveries", key).json()
    assert len(page["results"]) == 50 and page["next"]
    newest = page["results"][0]
    assert set(newest) == {
        "id",
        "event_id",
        "type",
        "attempts",
        "status",
        "last_response_code",
        "last_attempt_at",
    }
    rest = call(client, "get", f"webhooks/{endpoint.pk}/deliveries?cursor={page['next']}", key).json()
    assert rest["next"] is None and len(rest["results"]) == 6
    oldest = rest["results"][-1]
    assert oldest["type"] == "webhook.test" and oldest["status"] == "delivered" and oldest["attempts"] == 1
    assert oldest["last_response_code"] == 200 and oldest["last_attempt_at"]
    failed_first = rest["results"][-2]
    assert failed_first["status"] == "pending" and failed_first["last_response_code"] == 500


def test_an_owner_adds_an_endpoint_sends_a_test_event_and_reads_the_log(
    client_for, owner, business, receiver, django_capture_on_commit_callbacks
):
    client = client_for(owner)
    page = client.get("/settings/webhooks/").content.decode()
    assert (
        "Add an endpoint" in page and 'data-testid="verify-snippet"' in page and "hmac.compare_digest" in page
    )
    response = client.post(
        "/settings/webhooks/",
        {"url": receiver.url, "events": ["orders.order.recorded"], "secret": "page-secret", "active": "on"},
    )
    endpoint = WebhookEndpoint.objects.get(business=business)
    assert response.status_code == 302 and response["Location"] == f"/settings/webhooks/{endpoint.pk}/"
    assert endpoint.events == ["orders.order.recorded"] and endpoint.secret == "page-secret"

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/settings/webhooks/{endpoint.pk}/test/")
    receiver.answers = [503]
    with django_capture_on_commit_callbacks(execute=True):
        services.record_order(business=business, external_id="A-1", phone="+14155550101", amount="1")
    log = client.get(f"/settings/webhooks/{endpoint.pk}/").content.decode()
    assert 'data-testid="webhook-deliveries"' in log
    assert "webhook.test" in log and "orders.order.recorded" in log and "503" in log
    failed = WebhookDelivery.objects.get(event__type="orders.order.recorded")
    detail = client.get(f"/settings/webhooks/{endpoint.pk}/deliveries/{failed.pk}/").content.decode()
    assert "answer 503" in detail and "next attempt at" in detail

    delivered = WebhookDelivery.objects.get(event__type="webhook.test")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/settings/webhooks/{endpoint.pk}/deliveries/{delivered.pk}/redeliver/")
    assert [r.headers["X-Event-Type"] for r in receiver.requests] == [
        "webhook.test",
        "orders.order.recorded",
        "webhook.test",
    ]
    assert receiver.requests[0].headers["X-Event-Id"] == receiver.requests[2].headers["X-Event-Id"]

    client.post(f"/settings/webhooks/{endpoint.pk}/delete/")
    assert not WebhookEndpoint.objects.exists()


def test_only_owners_manage_webhooks(client_for, support, compliance, business):
    endpoint = services.create_endpoint(
        business=business, url="https://x.example.com", events=["*"], secret="s", actor=None
    )
    for user in (support, compliance):
        client = client_for(user)
        assert client.get("/settings/webhooks/").status_code == 403
        assert client.get(f"/settings/webhooks/{endpoint.pk}/").status_code == 403
        assert client.post(f"/settings/webhooks/{endpoint.pk}/delete/").status_code == 403
    assert WebhookEndpoint.objects.exists()


def test_another_business_endpoint_page_is_404(client_for, owner, other_business):
    theirs = services.create_endpoint(
        business=other_business, url="https://globex.example.com", events=["*"], secret="s", actor=None
    )
    delivery = services.send_test_event(endpoint=theirs, actor=None)
    client = client_for(owner)
    assert client.get(f"/settings/webhooks/{theirs.pk}/").status_code == 404
    assert client.post(f"/settings/webhooks/{theirs.pk}/test/").status_code == 404
    assert client.post(f"/settings/webhooks/{theirs.pk}/delete/").status_code == 404
    assert client.get(f"/settings/webhooks/{theirs.pk}/deliveries/{delivery.pk}/").status_code == 404
    assert (
        client.post(f"/settings/webhooks/{theirs.pk}/deliveries/{delivery.pk}/redeliver/").status_code == 404
    )
    assert WebhookDelivery.objects.count() == 1


def test_the_admin_manages_endpoints_through_the_services_in_its_business(
    client_for, owner, business, other_business
):
    theirs = services.create_endpoint(
        business=other_business, url="https://globex.example.com", events=["*"], secret="s", actor=None
    )
    their_delivery = services.send_test_event(endpoint=theirs, actor=None)
    client = client_for(owner)
    response = client.post(
        "/admin/customers/webhookendpoint/add/",
        {
            "url": "https://acme.example.com/in",
            "events": '["orders.order.recorded"]',
            "secret": "x",
            "active": "on",
        },
    )
    assert response.status_code == 302
    ours = WebhookEndpoint.objects.get(business=business)
    assert ours.events == ["orders.order.recorded"]
    assert AuditEntry.objects.filter(business=business, action="webhook.created").exists()
    refused = client.post(
        "/admin/customers/webhookendpoint/add/",
        {"url": "https://acme.example.com/in", "events": '["nope"]', "secret": "x", "active": "on"},
    )
    assert refused.status_code == 200 and "Unknown event types" in refused.content.decode()
    listing = client.get("/admin/customers/webhookendpoint/").content.decode()
    assert "acme.example.com" in listing and "globex.example.com" not in listing
    assert client.get(f"/admin/customers/webhookendpoint/{theirs.pk}/change/").status_code == 404
    assert client.get(f"/admin/customers/webhookdelivery/{their_delivery.pk}/change/").status_code == 404
