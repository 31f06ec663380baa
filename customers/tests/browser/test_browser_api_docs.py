import re

import pytest
from playwright.sync_api import expect

from conftest import log_in
from customers.models import ApiKey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_owner_makes_a_scoped_key_and_reads_the_api_docs(page, business, owner):
    log_in(page, owner.username)
    page.goto("/admin/customers/apikey/add/")
    page.get_by_label("Name").fill("Storefront")
    page.get_by_label(re.compile(r"orders:write:")).check()
    page.get_by_label(re.compile(r"customers:read:")).check()
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("shown once")
    api_key = ApiKey.objects.get(business=business)
    assert api_key.scopes == ["customers:read", "orders:write"]

    page.goto("/api/v1/docs")
    expect(page.locator(".swagger-ui .title")).to_contain_text("Customer back office API")
    expect(
        page.locator(".opblock-summary-path").filter(has_text=re.compile(r"^/api/v1/orders$"))
    ).to_be_visible()
    page.locator(".opblock-summary-path", has_text=re.compile(r"^/api/v1/orders$")).first.click()
    expect(page.locator(".opblock-body").first).to_contain_text("external_id")
