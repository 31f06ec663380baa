import os
import shutil

import pytest
from django.core.cache import caches
from django.db import connection
from django_q.conf import Conf

from customers.models import Business, Membership

# Playwright's sync API runs an event loop in the test thread; the ORM calls that browser
# tests make around it are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

PASSWORD = "pw-for-tests-1"

requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL to a postgres:// URL)"
)


@pytest.fixture(autouse=True)
def tasks_run_synchronously(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture(autouse=True)
def fresh_rate_limit_counters():
    """Each test starts with every API key's calls of the minute at zero."""
    caches["ratelimit"].clear()


@pytest.fixture(autouse=True)
def media_in_a_temporary_folder(settings, tmp_path):
    """Uploads and export files of a test never land in the real MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def replicas_only_where_asked(request, settings):
    """With DATABASE_REPLICA_URLS set, only the tests marked `replica` read from one: the
    others may use no database alias but the primary."""
    if request.node.get_closest_marker("replica") is None:
        settings.DATABASE_REPLICAS = []


@pytest.fixture
def business(db):
    return Business.objects.create(name="Acme Foods", slug="acme", default_country="US")


@pytest.fixture
def other_business(db):
    return Business.objects.create(name="Globex Market", slug="globex", default_country="GB", currency="GBP")


@pytest.fixture
def make_member(django_user_model):
    def make(business, role, username=None, password=PASSWORD):
        user = django_user_model.objects.create_user(
            username=username or f"{business.slug}-{role}", password=password, is_staff=True
        )
        Membership.objects.create(user=user, business=business, role=role)
        return user

    return make


@pytest.fixture
def owner(business, make_member):
    return make_member(business, Membership.Role.OWNER)


@pytest.fixture
def support(business, make_member):
    return make_member(business, Membership.Role.SUPPORT)


@pytest.fixture
def compliance(business, make_member):
    return make_member(business, Membership.Role.COMPLIANCE)


@pytest.fixture
def client_for(client):
    def login(user):
        client.force_login(user, backend="customers.tenancy.MembershipRoleBackend")
        return client

    return login


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"browser tests need {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def log_in(page, username, password=PASSWORD):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
