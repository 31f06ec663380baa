import pytest
from playwright.sync_api import expect

from conftest import log_in
from customers import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_support_adjusts_points_on_a_profile_and_sees_the_new_balance_and_the_ledger_line(
    page, live_server, business, support
):
    customer = services.record_order(
        business=business, external_id="A-1", phone="+1 415 555 0101", amount="42.50", first_name="Ann"
    ).order.customer

    log_in(page, support.username)
    page.goto(f"/customers/{customer.pk}/")
    expect(page.get_by_test_id("points-balance")).to_have_text("42")
    page.get_by_text("Adjust points", exact=True).first.click()
    panel = page.get_by_test_id("tier-panel")
    panel.locator("input[name=points]").fill("15")
    panel.locator("input[name=reason]").fill("Apology for a cold pizza")
    panel.get_by_role("button", name="Adjust points").click()

    expect(page.get_by_text("Points adjusted by +15: the balance is 57.")).to_be_visible()
    expect(page.get_by_test_id("points-balance")).to_have_text("57")
    expect(
        page.get_by_test_id("points-recent").locator("tr", has_text="Apology for a cold pizza")
    ).to_contain_text("+15")
    page.screenshot(path="/tmp/p-profile-points.png", full_page=True)

    page.get_by_role("link", name="Whole points ledger").click()
    line = page.get_by_test_id("points-ledger").locator("tbody tr").first
    expect(line).to_contain_text("Apology for a cold pizza")
    expect(line).to_contain_text("57")
    expect(line).to_contain_text(support.username)
    page.screenshot(path="/tmp/p-ledger.png", full_page=True)


def test_an_owner_sets_the_points_rule_beside_the_tiers_and_the_next_order_earns_by_it(
    page, live_server, business, owner
):
    log_in(page, owner.username)
    page.goto("/loyalty/")
    rule = page.locator("#points-rule")
    rule.locator("input[name=points_per_unit]").fill("2")
    rule.locator("input[name=expiry_months]").fill("12")
    rule.get_by_role("button", name="Save points rule").click()

    expect(page.get_by_text("Points rule saved")).to_be_visible()
    expect(page.locator("#points-rule input[name=expiry_months]")).to_have_value("12")
    page.screenshot(path="/tmp/p-loyalty.png", full_page=True)
    recorded = services.record_order(
        business=business, external_id="A-1", phone="+1 415 555 0101", amount="10.99"
    )
    recorded.order.customer.refresh_from_db()
    assert recorded.order.customer.points_balance == 21
