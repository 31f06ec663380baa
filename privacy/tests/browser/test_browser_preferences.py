import re

import pytest
from playwright.sync_api import expect

from conftest import log_in
from privacy.models import ConsentEvent
from privacy.tests.factories import customer, grant

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
    page.screenshot(path="/tmp/v1-preferences-edit.png", full_page=True)
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


def test_compliance_finds_a_customers_consents_from_the_privacy_page(
    page, live_server, business, support, compliance
):
    ann = customer(business, first_name="Ann", last_name="Lee")
    bob = customer(business, "+14155550202", first_name="Bob")
    grant(ann, "email_marketing", actor=support, evidence="Ticked “email me offers” at checkout")
    grant(bob, "sms_marketing", actor=support)

    log_in(page, compliance.username)
    page.goto("/privacy/")
    page.get_by_role("link", name="Consent history").click()
    expect(page.get_by_test_id("consent-event")).to_have_count(2)
    page.get_by_label("Customer").fill("(415) 555-0101")
    page.get_by_label("Purpose").select_option("marketing")
    page.get_by_role("button", name="Search").click()

    events = page.get_by_test_id("consent-event")
    expect(events).to_have_count(1)
    expect(events.first).to_contain_text("Ann Lee")
    expect(events.first).to_contain_text("Ticked “email me offers” at checkout")
    page.screenshot(path="/tmp/v1-consent-search.png", full_page=True)
