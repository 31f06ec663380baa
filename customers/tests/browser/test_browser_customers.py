import json
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import log_in
from customers import services
from customers.models import BlacklistEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_support_finds_a_customer_by_phone_blacklists_them_and_their_next_order_is_blocked(
    page, live_server, business, support
):
    services.record_order(
        business=business,
        external_id="A-1",
        phone="+1 415 555 0101",
        amount="42.50",
        first_name="Ann",
        last_name="Lee",
    )
    services.record_order(
        business=business, external_id="B-1", phone="+1 415 555 0199", amount="9", first_name="Bob"
    )

    log_in(page, support.username)
    expect(page).to_have_url(re.compile(r"/customers/$"))

    page.fill("input[name=q]", "555-0101")
    page.get_by_role("button", name="Search").click()
    results = page.locator("table tbody tr")
    expect(results).to_have_count(1)
    results.get_by_role("link", name="Ann Lee").click()

    expect(page.locator("h1")).to_have_text("Ann Lee")
    page.select_option("select[name=reason]", "fraud")
    page.fill("textarea[name=note]", "Chargebacks on every order")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Blacklist", exact=True).click()

    expect(page.locator(".alert-success")).to_have_text("Ann Lee is blacklisted.")
    latest = page.locator("#timeline .timeline-item").first
    expect(latest).to_contain_text("Blacklisted")
    expect(latest).to_contain_text("Reason: Fraud · “Chargebacks on every order”")
    expect(latest).to_contain_text(support.username)
    assert BlacklistEntry.objects.get().actor == support

    _, secret = services.create_api_key(business=business, name="t", actor=None)
    order = {
        "external_id": "A-2",
        "phone": "(415) 555-0101",
        "amount": "30.00",
        "currency": "USD",
        "placed_at": timezone.now().isoformat(),
        "status": "completed",
        "source": "doordash",
        "items": [{"sku": "P1", "name": "Pizza", "quantity": 1, "price": "30.00"}],
    }
    response = page.request.post(
        live_server.url + "/api/v1/orders",
        data=json.dumps(order),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )
    assert response.status == 201, response.text()
    assert response.json()["blocked"] is True

    page.reload()
    expect(page.locator("#orders tbody tr").first).to_contain_text("A-2")
    expect(page.locator("#orders tbody tr").first).to_contain_text("Blocked")
    expect(page.locator("#timeline .timeline-item").first).to_contain_text("Order A-2 recorded")
