import re

import pytest
from playwright.sync_api import expect

from conftest import log_in
from privacy.models import ConsentEvent
from privacy.tests.factories import customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_support_grants_sms_consent_with_evidence_and_sees_it_in_the_history_and_the_timeline(
    page, live_server, business, support
):
    ann = customer(business, first_name="Ann", last_name="Lee")
    log_in(page, support.username)
    page.goto(f"/customers/{ann.pk}/")
    panel = page.get_by_test_id("preferences-panel")
    expect(panel.get_by_test_id("sms-marketing")).to_have_text("No")
    expect(panel).to_contain_text("No consent recorded")

    panel.get_by_text("Change preferences").click()
    panel.get_by_label("SMS marketing").check()
    panel.get_by_role("button", name="Save preferences").click()
    # A grant without evidence is refused, on the form's own page.
    expect(page.locator(".errorlist")).to_contain_text("a consent needs its evidence")
    page.get_by_label("SMS marketing").check()
    page.get_by_label("Evidence").fill("Said yes to texts on the phone, call of 1 Dec")
    page.get_by_role("button", name="Save preferences").click()

    expect(page).to_have_url(re.compile(rf"/customers/{ann.pk}/$"))
    expect(page.locator(".alert-success")).to_have_text("Communication preferences saved.")
    panel = page.get_by_test_id("preferences-panel")
    expect(panel.get_by_test_id("sms-marketing")).to_have_text("Yes")
    event = panel.get_by_test_id("consent-event").first
    expect(event).to_contain_text("Granted")
    expect(event).to_contain_text("Marketing · SMS")
    expect(event).to_contain_text("“Said yes to texts on the phone, call of 1 Dec”")
    expect(event).to_contain_text(support.username)
    latest = page.locator("#timeline .timeline-item").first
    expect(latest).to_contain_text("Communication preferences changed (staff)")
    expect(latest).to_contain_text("SMS marketing: no → yes")
    page.screenshot(path="/tmp/v1-profile-preferences.png", full_page=True)
    assert ConsentEvent.objects.get().actor == support
