import datetime as dt
import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from conftest import log_in
from customers.models import Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_logs_in_sees_dashboard_switches_business_and_logs_out(page, business, other_business, owner):
    Membership.objects.create(user=owner, business=other_business, role=Membership.Role.OWNER)
    log_in(page, owner.username)

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page).to_have_title(re.compile("^Dashboard"))
    nav = page.locator("nav")
    for label in ("Dashboard", "Customers", "Segments", "Loyalty", "Privacy", "Admin"):
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    expect(page.locator("body")).to_contain_text(business.name)

    page.select_option("select[name=business]", str(other_business.pk))
    expect(page.locator(".business-switcher select")).to_have_value(str(other_business.pk))
    expect(page.locator("main")).to_contain_text(other_business.name)

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator("main")).to_contain_text("You have been logged out.")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_wrong_passwords_lock_the_login_until_the_lock_expires(page, business, owner):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(page, owner.username, "not-the-password")
    log_in(page, owner.username)
    expect(page.locator("body")).to_contain_text("Too many failed attempts. Try again in 15 minutes.")

    cool_off = dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
    AccessAttempt.objects.update(attempt_time=timezone.now() - cool_off - dt.timedelta(seconds=1))
    log_in(page, owner.username)
    expect(page).to_have_title(re.compile("^Dashboard"))
