import re

import pytest
from playwright.sync_api import expect

from conftest import log_in
from customers import services
from customers.models import Payment, Refund

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_support_finds_a_customer_refunds_half_an_order_with_a_reason_and_sees_it(page, business, support):
    services.record_order(
        business=business,
        external_id="A-1",
        phone="+1 415 555 0101",
        amount="40.00",
        first_name="Ann",
        last_name="Lee",
        payments=[
            {"transaction_id": "ch_declined", "amount": "40.00", "method": "card", "status": "failed"},
            {"transaction_id": "ch_paid", "amount": "40.00", "method": "card", "provider": "stripe"},
        ],
    )
    payment = Payment.objects.get(transaction_id="ch_paid")

    log_in(page, support.username)
    expect(page).to_have_url(re.compile(r"/customers/$"))
    page.fill("input[name=q]", "Ann Lee")
    page.get_by_role("button", name="Search").click()
    page.locator("table tbody tr").get_by_role("link", name="Ann Lee").click()
    expect(page.locator("h1")).to_have_text("Ann Lee")
    expect(page.locator("[data-total=failed]")).to_have_text("1")

    row = page.locator(f"[data-payment='{payment.pk}']")
    row.locator("summary", has_text="Refund").click()
    row.locator("input[name=amount]").fill("20.00")
    row.locator("input[name=reason]").fill("Half the order arrived cold")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Refund").click()

    expect(page.locator(".alert-success")).to_have_text("Refunded 20.00 USD of payment ch_paid.")
    row = page.locator(f"[data-payment='{payment.pk}']")
    expect(row).to_contain_text("Partially refunded")
    expect(row.locator(".refund")).to_contain_text("Refund 20.00 USD")
    expect(row.locator(".refund")).to_contain_text(f"by {support.username}: “Half the order arrived cold”")
    expect(page.locator("#orders .order-money")).to_have_text(
        "paid 40.00 · refunded 20.00 · outstanding 0.00"
    )
    expect(page.locator("[data-total=refunded]")).to_have_text("20.00")
    expect(page.locator("[data-total=outstanding]")).to_have_text("0.00")
    latest = page.locator("#timeline .timeline-item").first
    expect(latest).to_contain_text("Refunded 20.00 USD of order A-1")
    expect(latest).to_contain_text("“Half the order arrived cold”")
    expect(latest).to_contain_text(support.username)
    assert Refund.objects.get().actor == support
