import re

import pytest
from playwright.sync_api import expect

from conftest import log_in
from customers import services
from customers.models import WebhookEndpoint
from customers.tests.webhooks.receiver import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_owner_adds_an_endpoint_sends_a_test_event_and_reads_the_signed_delivery(
    page, business, owner, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with Receiver() as receiver:
        log_in(page, owner.username)
        page.goto("/settings/webhooks/")
        expect(page.locator("h1")).to_have_text("Webhooks")
        expect(page.get_by_test_id("verify-snippet")).to_contain_text("hmac.compare_digest")
        page.get_by_label("URL").fill(receiver.url)
        page.get_by_label("orders.order.recorded").check()
        page.get_by_label("Secret").fill("shop-secret")
        page.get_by_role("button", name="Add endpoint").click()

        endpoint = WebhookEndpoint.objects.get(business=business)
        expect(page).to_have_url(re.compile(rf"/settings/webhooks/{endpoint.pk}/$"))
        page.get_by_role("button", name="Send test event").click()
        deliveries = page.get_by_test_id("webhook-deliveries")
        expect(deliveries).to_contain_text("webhook.test")
        expect(deliveries).to_contain_text("Delivered")

        services.record_order(business=business, external_id="A-1", phone="+14155550101", amount="9.50")
        page.reload()
        expect(page.get_by_test_id("webhook-deliveries")).to_contain_text("orders.order.recorded")

    assert [request.headers["X-Event-Type"] for request in receiver.requests] == [
        "webhook.test",
        "orders.order.recorded",
    ]
    assert all(request.headers["X-Signature"].startswith("sha256=") for request in receiver.requests)
