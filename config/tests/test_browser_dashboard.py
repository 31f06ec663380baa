import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import log_in
from customers import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_changes_the_range_sees_the_charts_redraw_and_downloads_the_csv(page, business, owner):
    services.record_order(
        business=business,
        external_id="NOW-1",
        phone="+14155550101",
        amount="30.00",
        placed_at=timezone.now() - dt.timedelta(days=3),
    )
    for number, (day, amount) in enumerate([(10, "70.00"), (10, "5.00"), (20, "25.00")]):
        services.record_order(
            business=business,
            external_id=f"MAR-{number}",
            phone=f"+1415555020{number}",
            amount=amount,
            placed_at=dt.datetime(2026, 3, day, 15, tzinfo=dt.UTC),
        )
    log_in(page, owner.username)

    revenue = page.locator('.kpi[data-metric="revenue"] .kpi-value')
    expect(revenue).to_have_text("USD30.00")
    expect(page.locator("#chart-revenue svg.chart rect")).to_have_count(30)

    page.fill("input[name=start]", "2026-03-01")
    page.fill("input[name=end]", "2026-03-31")
    page.get_by_role("button", name="Apply").click()

    expect(page).to_have_url(re.compile(r"start=2026-03-01&end=2026-03-31"))
    expect(revenue).to_have_text("USD100.00")
    expect(page.locator('.kpi[data-metric="orders"] .kpi-value')).to_have_text("3")
    expect(page.locator('[data-testid="period"]')).to_contain_text("1 Mar 2026 – 31 Mar 2026")
    expect(page.locator("#chart-revenue svg.chart rect")).to_have_count(31)
    expect(page.locator("#chart-revenue svg.chart rect title").nth(9)).to_have_text("10 Mar: 75.00 revenue")
    page.locator("#chart-revenue summary").click()
    numbers = page.locator('table[data-chart="revenue"] tbody tr').nth(9)
    expect(numbers).to_contain_text("Tue 10 Mar 2026")
    expect(numbers).to_contain_text("75.00")
    page.screenshot(path="/tmp/d-dashboard-march.png", full_page=True)

    with page.expect_download() as download:
        page.locator('[data-testid="csv"]').click()
    lines = download.value.path().read_text().splitlines()
    assert download.value.suggested_filename == "dashboard-acme-2026-03-01-2026-03-31.csv"
    assert lines[:3] == ["metric,value", "revenue,100.00", "orders,3"]
    assert "revenue:2026-03-10,75.00" in lines and "orders:2026-03-20,1" in lines
