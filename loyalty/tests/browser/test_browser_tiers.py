import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import log_in
from customers import services
from loyalty import services as services_tiers
from loyalty.models import TierRecalculation
from loyalty.tests.factories import configure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_owner_lowers_a_threshold_previews_it_saves_with_a_reason_and_finds_the_new_tier_on_the_timeline(
    page, live_server, business, owner
):
    configure(business, silver={"spend": "100.00"})
    services.record_order(
        business=business,
        external_id="A-1",
        phone="+1 415 555 0101",
        amount="60.00",
        first_name="Ann",
        last_name="Lee",
    )
    services.record_order(
        business=business, external_id="B-1", phone="+1 415 555 0199", amount="9", first_name="Bob"
    )

    log_in(page, owner.username)
    page.goto("/loyalty/")
    page.fill("input[name=silver_spend]", "50")

    preview = page.get_by_test_id("what-if")
    expect(preview).to_contain_text("1 customers move up, 0 move down")
    page.fill("input[name=reason]", "Summer promotion")
    page.get_by_role("button", name="Save and recalculate").click()

    expect(page.get_by_text("Tier configuration saved")).to_be_visible()
    page.wait_for_selector("[data-testid=latest-recalculation]")
    expect(page.get_by_test_id("latest-recalculation")).to_have_text("Done: 2 customers recalculated.")
    expect(page.get_by_test_id("tier-audits")).to_contain_text("Summer promotion")
    expect(page.get_by_test_id("tier-distribution")).to_contain_text("Silver")

    page.goto("/customers/?tier=SILVER")
    page.get_by_role("link", name="Ann Lee").click()
    expect(page.locator("h1")).to_have_text("Ann Lee")
    timeline = page.locator(".timeline-item", has_text="Tier changed")
    expect(timeline).to_contain_text(
        "Bronze → Silver · recalculation: “Configuration changed: Summer promotion”"
    )
    expect(page).to_have_url(re.compile(r"/customers/\d+/$"))


def test_the_live_what_if_over_a_rolling_period_says_as_of_which_recalculation(
    page, live_server, business, owner
):
    configure(business, silver={"spend": "100.00"})
    services.record_order(business=business, external_id="A-1", phone="+1 415 555 0101", amount="60.00")
    # Outside a test transaction the queued recalculation runs at once (django-q in sync mode).
    job = services_tiers.request_recalculation(business=business, actor=owner, reason="Nightly")
    started = timezone.localtime(TierRecalculation.objects.get(pk=job.pk).started_at)

    log_in(page, owner.username)
    page.goto("/loyalty/")
    page.select_option("select[name=silver_period]", "monthly")
    page.fill("input[name=silver_spend]", "50")

    preview = page.get_by_test_id("what-if")
    expect(preview).to_contain_text(f"figures of the last recalculation ({started:%Y-%m-%d %H:%M})")
    page.screenshot(path="/tmp/t-what-if.png", full_page=True)
