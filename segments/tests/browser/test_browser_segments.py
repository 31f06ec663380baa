import datetime as dt

import pytest
from playwright.sync_api import expect

from conftest import log_in
from customers import services
from customers.models import Customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shop(business):
    placed = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    people = {}
    for number, (name, amount) in enumerate(
        [("Ann", "150.00"), ("Bob", "150.00"), ("Carl", "150.00"), ("Dan", "20.00")], start=1
    ):
        recorded = services.record_order(
            business=business,
            external_id=f"B-{number}",
            phone=f"+1 415 555 01{number:02d}",
            amount=amount,
            placed_at=placed,
            first_name=name,
            last_name="Shopper",
        )
        people[name] = Customer.objects.get(pk=recorded.order.customer_id)
    Customer.objects.filter(pk__in=[people["Ann"].pk, people["Dan"].pk]).update(tier="GOLD")
    services.tag_customer(customer=people["Bob"], name="vip", actor=None)
    return people


def test_an_owner_builds_a_segment_previews_it_saves_opens_its_members_bulk_tags_them_and_finds_the_tag(
    page, live_server, business, owner
):
    people = shop(business)
    log_in(page, owner.username)
    page.goto("/segments/")
    expect(page.get_by_test_id("segments")).to_contain_text("Churned")
    page.screenshot(path="/tmp/s2-list.png", full_page=True)
    page.get_by_role("link", name="New segment").click()
    page.fill("input[name=name]", "Gold or VIP spenders")

    root = page.locator(".segment-builder-group[data-depth='1'] > .segment-builder-actions")
    root.get_by_role("button", name="Add rule").click()
    rule = page.locator(".segment-builder-rule").nth(0)
    rule.get_by_label("Field").select_option("total_spent")
    rule.get_by_label("Timeframe").select_option("last_90_days")
    rule.get_by_label("Operator").select_option("greater_than")
    rule.get_by_label("Value").fill("100")
    expect(page.get_by_test_id("preview-count")).to_have_text("3")
    root.get_by_role("button", name="Add group").click()
    group = page.locator(".segment-builder-group[data-depth='2']")
    expect(group.get_by_label("Match")).to_have_value("OR")
    tier_rule = group.locator(".segment-builder-rule").nth(0)
    tier_rule.get_by_label("Field").select_option("tier")
    tier_rule.get_by_label("Value").select_option("GOLD")
    group.get_by_role("button", name="Add rule").click()
    tag_rule = group.locator(".segment-builder-rule").nth(1)
    tag_rule.get_by_label("Field").select_option("tags")
    tag_rule.get_by_label("Tag").fill("vip")

    expect(page.get_by_test_id("preview-count")).to_have_text("2")
    expect(page.get_by_test_id("preview-sample")).to_contain_text("Ann Shopper")
    expect(page.get_by_test_id("preview-sample")).to_contain_text("Bob Shopper")
    page.screenshot(path="/tmp/s2-form.png", full_page=True)
    page.get_by_role("button", name="Save").click()

    expect(page.locator("h1")).to_have_text("Gold or VIP spenders")
    expect(page.get_by_test_id("member-count")).to_have_text("2")
    members = page.get_by_test_id("members")
    expect(members).to_contain_text("Ann Shopper")
    expect(members).not_to_contain_text("Carl Shopper")
    page.screenshot(path="/tmp/s2-segment.png", full_page=True)

    page.get_by_test_id("bulk-actions").click()
    expect(page.get_by_test_id("bulk-count")).to_have_text("2")
    page.get_by_role("link", name="Add a tag").click()
    page.fill("input[name=name]", "Spring campaign")
    page.get_by_role("button", name="Add a tag: 2 customers").click()
    expect(page.get_by_test_id("bulk-result")).to_contain_text("2 changed")
    page.screenshot(path="/tmp/s2-bulk.png", full_page=True)

    page.goto(f"/customers/{people['Ann'].pk}/")
    expect(page.locator(".tag", has_text="Spring campaign")).to_be_visible()
    expect(page.get_by_test_id("segments-panel")).to_contain_text("Gold or VIP spenders")
    joined = page.locator(".timeline-item", has_text="Gold or VIP spenders")
    expect(joined).to_contain_text("Joined segment “Gold or VIP spenders” · recalculation")
    page.screenshot(path="/tmp/s2-profile.png", full_page=True)
    carl = page.goto(f"/customers/{people['Carl'].pk}/")
    assert carl.ok
    expect(page.locator(".tag", has_text="Spring campaign")).to_have_count(0)
