import re

import pytest
from playwright.sync_api import expect

from conftest import log_in
from customers import services
from customers.models import Business, Customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ann(business):
    order = services.record_order(
        business=business,
        external_id="A-1",
        phone="+1 415 555 0101",
        amount="42.50",
        first_name="Ann",
        last_name="Lee",
        email="ann.lee.with.a.long.address@example-company.com",
    ).order
    services.tag_customer(customer=order.customer, name="VIP", actor=None)
    return order.customer


def test_the_list_counts_its_customers_and_slash_focuses_the_search(page, business, support, ann):
    # A row as wide as they come: long names and email, two badges, four tags, a big total.
    Customer.objects.filter(pk=ann.pk).update(
        first_name="Maximiliana-Josephine",
        last_name="Vanderbergh-Oppenheimer",
        email="maximiliana.josephine.vanderbergh@longcompany-example.com",
        status="suspended",
        total_spent="1234567.89",
    )
    for name in ("Wholesale partner", "Late payer", "Newsletter"):
        services.tag_customer(customer=ann, name=name, actor=None)
    services.blacklist_customer(customer=ann, reason="fraud", actor=None)
    services.record_order(
        business=business, external_id="B-1", phone="+1 415 555 0199", amount="9", first_name="Bob"
    )
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, support.username)
    expect(page).to_have_url(re.compile(r"/customers/$"))
    expect(page.locator("#result-count")).to_have_text("2 customers")
    expect(page.get_by_text("Times in UTC")).to_be_visible()

    table = page.locator(".table-wrap")
    assert table.evaluate("el => el.scrollWidth <= el.clientWidth"), "a column is cut at 1366 px"

    page.locator("h1").click()
    page.keyboard.press("/")
    search = page.locator("input[name=q]")
    expect(search).to_be_focused()
    page.keyboard.type("Bob")
    expect(search).to_have_value("Bob")  # the slash focused the box and was not typed into it
    page.keyboard.press("Enter")
    expect(page.locator("#result-count")).to_have_text("1 customer")

    page.locator("select[name=status]").focus()
    page.keyboard.press("/")
    expect(search).not_to_be_focused()


def test_an_owner_restores_a_deleted_customer_from_the_deleted_tab(page, owner, ann):
    services.delete_customer(customer=ann, actor=owner)
    log_in(page, owner.username)
    page.goto("/customers/")
    page.get_by_role("link", name="Deleted", exact=True).click()
    expect(page.locator("#result-count")).to_have_text("1 deleted customer")
    row = page.locator("table tbody tr", has_text="Ann Lee")
    row.get_by_role("button", name="Restore").click()

    expect(page.locator(".alert-success")).to_have_text("Ann Lee was restored.")
    ann.refresh_from_db()
    assert ann.deleted_at is None
    page.goto("/customers/")
    expect(page.locator("table tbody tr", has_text="Ann Lee")).to_have_count(1)


def test_support_edits_contact_data_with_the_language_and_time_zone_lists(page, support, ann):
    log_in(page, support.username)
    page.goto(f"/customers/{ann.pk}/")
    expect(page.locator(".kpi-label").first).to_have_text("Completed orders")
    page.get_by_role("link", name="Edit contact data").click()
    page.select_option("select[name=language]", label="German")
    page.select_option("select[name=timezone]", "Europe/Berlin")
    page.fill("input[name=phone]", "+44 20 7946 0958")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("This changes the customer's country from US to GB.")).to_be_visible()
    page.get_by_label("Save anyway").check()
    page.get_by_role("button", name="Save").click()

    expect(page.locator(".alert-success")).to_have_text("Contact data saved.")
    ann.refresh_from_db()
    assert (ann.language, ann.timezone, ann.phone) == ("de", "Europe/Berlin", "+442079460958")


def test_an_owner_edits_the_business_settings(page, owner, business):
    log_in(page, owner.username)
    page.get_by_role("link", name="Settings").click()
    expect(page.locator("h1")).to_have_text("Business settings")
    page.fill("input[name=name]", "Acme Fine Foods")
    page.select_option("select[name=default_country]", "GB")
    page.fill("input[name=currency]", "GBP")
    page.select_option("select[name=timezone]", "Europe/London")
    page.get_by_role("button", name="Save").click()

    expect(page.locator(".alert-success")).to_have_text("Business settings saved.")
    business = Business.objects.get()
    assert (business.name, business.default_country, business.currency, business.timezone) == (
        "Acme Fine Foods",
        "GB",
        "GBP",
        "Europe/London",
    )
    page.goto("/customers/")
    expect(page.get_by_text("Times in Europe/London")).to_be_visible()
    assert not Customer.objects.exists()
