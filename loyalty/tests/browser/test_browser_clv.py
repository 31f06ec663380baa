import re

import pytest
from playwright.sync_api import expect

from conftest import log_in
from loyalty.tests.views.test_clv_page import fitted_business

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_owner_reads_the_model_and_the_predicted_value_of_each_tier(page, business, owner):
    fit = fitted_business(business)
    log_in(page, owner.username)

    page.goto("/loyalty/clv/")

    expect(page).to_have_title(re.compile("^Customer lifetime value"))
    main = page.locator("main")
    expect(main).to_contain_text(fit.model_version)
    expect(main).to_contain_text(fit.note)
    expect(main.get_by_role("table", name="Predicted value of Gold customers")).to_be_visible()
    bronze = main.get_by_role("table", name="Predicted value of Bronze customers")
    expect(bronze.locator(".bar")).to_have_count(7)
