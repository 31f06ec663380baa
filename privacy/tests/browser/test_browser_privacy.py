import io
import json
import zipfile

import pytest
from playwright.sync_api import expect

from conftest import log_in
from privacy.models import AccessLog, AnonymizationRequest, DataExport
from privacy.tests.conftest import record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_support_asks_a_compliance_officer_approves_the_record_is_anonymized_and_an_export_is_downloaded(
    page, live_server, business, support, compliance
):
    zeb = record(business, "Z-1", first_name="Zebedee", last_name="Quimby", email="zq@example.com").customer
    olga = record(business, "O-1", phone="+14155550199", first_name="Olga", last_name="Berg").customer

    log_in(page, support.username)
    page.goto(f"/customers/{zeb.pk}/")
    panel = page.get_by_test_id("privacy-panel")
    panel.get_by_text("Request anonymization").first.click()
    panel.get_by_label("Reason").fill("Asked to be forgotten, email of today")
    panel.get_by_role("button", name="Request anonymization").click()
    expect(page.locator(".alert-text", has_text="Anonymization requested")).to_be_visible()
    expect(page.get_by_test_id("anonymization-status")).to_contain_text("Requested")
    page.screenshot(path="/tmp/v2-requested.png", full_page=True)

    page.context.clear_cookies()
    log_in(page, compliance.username)
    page.goto("/privacy/")
    request = AnonymizationRequest.objects.get()
    row = page.get_by_test_id(f"queue-anonymization-{request.pk}")
    expect(row).to_contain_text("Asked to be forgotten")
    page.screenshot(path="/tmp/v2-queue.png", full_page=True)
    row.get_by_role("button", name="Approve anonymization").click()
    expect(page.locator(".alert-text", has_text=f"Anonymization #{request.pk} approved")).to_be_visible()

    page.goto(f"/customers/{zeb.pk}/")
    expect(page.get_by_test_id("anonymized-badge")).to_be_visible()
    expect(page.locator("#orders")).to_contain_text("Z-1")
    expect(page.locator("h1")).not_to_contain_text("Zebedee")
    page.screenshot(path="/tmp/v2-anonymized.png", full_page=True)

    page.goto(f"/customers/{olga.pk}/")
    panel = page.get_by_test_id("privacy-panel")
    panel.get_by_text("Export data").click()
    panel.get_by_label("Type").select_option("GDPR_FULL")
    panel.locator("#export_reason").fill("Access request by letter")
    panel.get_by_role("button", name="Request export").click()
    expect(page.locator(".alert-text", has_text="requested, due")).to_be_visible()
    export = DataExport.objects.get()
    expect(page.get_by_test_id("profile-exports")).to_contain_text("Completed")

    page.goto("/privacy/")
    page.screenshot(path="/tmp/v2-privacy.png", full_page=True)
    with page.expect_download() as download_info:
        page.get_by_test_id(f"export-{export.pk}").get_by_role("link", name="Download ZIP").click()
    archive = zipfile.ZipFile(io.BytesIO(open(download_info.value.path(), "rb").read()))
    assert json.loads(archive.read("data.json"))["profile"]["first_name"] == "Olga"
    assert AccessLog.objects.filter(what="data_export_downloaded", actor=compliance).count() == 1

    page.goto(f"/privacy/access-log/?customer={olga.pk}")
    expect(page.get_by_test_id("access-log")).to_contain_text("Data export downloaded")
    page.screenshot(path="/tmp/v2-access-log.png", full_page=True)
