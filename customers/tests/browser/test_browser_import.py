import re

import pytest
from django_q.conf import Conf
from playwright.sync_api import expect

from conftest import log_in
from customers import services
from customers.models import ImportJob

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
HEADER = "phone,first_name,last_name,tags\n"
WITH_A_BAD_ROW = HEADER + "+1 415 555 0101,Ann,Lee,vip\n415-555-01,Bob,Stone,\n"
FIXED = HEADER + "+1 415 555 0101,Ann,Lee,vip\n415-555-0102,Bob,Stone,\n"


def upload(page, text):
    page.goto("/customers/import/")
    page.select_option("select[name=kind]", "customers")
    page.set_input_files(
        "input[name=file]", files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": text.encode()}]
    )
    page.get_by_role("button", name="Check the file").click()


def run_queued_job(page):
    """Plays the worker: the page shows the queued job's progress, then follows it to its end."""
    expect(page.locator("progress")).to_be_visible()
    services.run_import_job(ImportJob.objects.latest("pk").pk)


def test_an_owner_fixes_a_bad_row_imports_watches_progress_and_finds_the_customers(
    page, live_server, owner, settings, monkeypatch
):
    # Every file goes through a background job, run here by the test.
    settings.IMPORT_SYNC_MAX_ROWS = 1
    monkeypatch.setattr(Conf, "SYNC", False)
    log_in(page, owner.username)
    page.goto("/customers/")
    page.get_by_role("link", name="Import").click()
    expect(page.locator("h1")).to_have_text("Import customers or orders")

    upload(page, WITH_A_BAD_ROW)
    run_queued_job(page)

    expect(page.locator(".alert-warning")).to_contain_text("1 row cannot be imported")
    error_row = page.locator("#rows tbody tr.row-error")
    expect(error_row).to_have_count(1)
    expect(error_row.locator("td").first).to_have_text("3")
    expect(error_row).to_contain_text("“415-555-01” is not a valid phone number")
    # The only import offered skips the wrong row.
    expect(page.get_by_role("button", name=re.compile("^Import"))).to_have_text(["Import the 1 valid row"])

    upload(page, FIXED)
    run_queued_job(page)
    expect(page.locator(".alert-info")).to_contain_text("Every row can be imported")
    page.get_by_role("button", name="Import 2 rows").click()
    run_queued_job(page)

    expect(page.locator(".alert-success")).to_contain_text("created=2 updated=0 unchanged=0 errors=0")
    page.get_by_role("link", name="See the customers").click()
    expect(page.locator("table tbody tr")).to_have_count(2)
    expect(page.get_by_role("link", name="Ann Lee")).to_be_visible()
    expect(page.get_by_role("link", name="Bob Stone")).to_be_visible()


def test_an_owner_imports_the_valid_rows_of_a_checked_file_without_uploading_it_again(
    page, live_server, owner, settings, monkeypatch
):
    settings.IMPORT_SYNC_MAX_ROWS = 1
    monkeypatch.setattr(Conf, "SYNC", False)
    log_in(page, owner.username)

    upload(page, WITH_A_BAD_ROW)
    run_queued_job(page)
    page.get_by_role("button", name="Import the 1 valid row").click()
    run_queued_job(page)

    expect(page.locator(".alert-success")).to_contain_text("created=1 updated=0 unchanged=0 errors=1")
    assert ImportJob.objects.count() == 1
