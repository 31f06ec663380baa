import re

import pytest
from playwright.sync_api import expect

from conftest import log_in
from customers import services
from customers.models import Customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_support_merges_a_duplicate_pair_taking_one_field_from_the_other_and_undoes_it(
    page, business, support
):
    services.record_order(
        business=business,
        external_id="A-1",
        phone="+14155550101",
        amount="20",
        first_name="Ann",
        last_name="Lee",
        email="ann@example.com",
    )
    services.record_order(
        business=business,
        external_id="B-1",
        phone="+14155550202",
        amount="5",
        first_name="Annabel",
        last_name="Lee",
        email="ann@example.com",
    )
    services.detect_duplicates(business=business)
    ann = Customer.objects.get(phone="+14155550101")

    log_in(page, support.username)
    page.get_by_role("link", name="Possible duplicates").click()

    row = page.locator("#duplicates tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Same email")
    row.get_by_role("link", name="Merge…").click()

    expect(page.locator("h1")).to_have_text("Merge 2 customers")
    expect(page.locator("#merge-moves li").filter(has_text="order")).to_have_text("1 order")
    # The customers' links atop the columns do not sort: no sort arrow after them.
    header_link = page.locator("#merge-fields thead th a").first
    assert header_link.evaluate("link => getComputedStyle(link, '::after').content") == "none"
    page.get_by_label(re.compile(r"first name of #\d+")).nth(1).check()
    page.fill("textarea[name=reason]", "Same email, second phone")
    page.get_by_role("button", name=f"Merge into #{ann.pk}").click()

    expect(page).to_have_url(re.compile(rf"/customers/{ann.pk}/$"))
    expect(page.locator(".alert-success")).to_contain_text("Merged #")
    expect(page.locator("h1")).to_have_text("Annabel Lee")
    expect(page.locator(".kpi-value").first).to_have_text("2")
    expect(page.locator("#timeline .timeline-item").first).to_contain_text("Same email, second phone")

    page.get_by_role("link", name="View or undo the merge").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Undo merge").click()

    expect(page.locator(".alert-success")).to_have_text("The merge is undone.")
    page.get_by_role("link", name=re.compile(r"Ann Lee")).click()
    expect(page.locator("h1")).to_have_text("Ann Lee")
    expect(page.locator(".kpi-value").first).to_have_text("1")
    expect(page.locator("#timeline .timeline-item").first).to_contain_text("undone")
