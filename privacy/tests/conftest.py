import datetime as dt
import json

import pytest
from django.utils import timezone

from customers import services
from customers.models import Membership

PHONE = "+14155550123"
EMAIL = "zebedee.quimby@example.com"
ACCOUNT_EMAIL = "zq-shop@store.example"
STREET = "742 Evergreen Terrace"


def record(business, external_id, phone=PHONE, placed_at=None, **extra):
    return services.record_order(
        business=business,
        external_id=external_id,
        phone=phone,
        amount="40.00",
        placed_at=placed_at or timezone.now() - dt.timedelta(days=3),
        items=[{"sku": "P1", "name": "Pizza", "category": "food", "quantity": 2, "price": "20.00"}],
        **extra,
    ).order


@pytest.fixture
def zeb(business):
    """A customer with an order, an address and a storefront account."""
    order = record(
        business,
        "Z-1",
        first_name="Zebedee",
        last_name="Quimby",
        email=EMAIL,
        address={"street": STREET, "city": "Springfield", "postal_code": "49007", "country": "US"},
    )
    services.link_account(
        business=business, phone=PHONE, provider="shopify", email=ACCOUNT_EMAIL, external_id="SHOP-ZQ-77"
    )
    return order.customer


@pytest.fixture
def second_compliance(business, make_member):
    return make_member(business, Membership.Role.COMPLIANCE, username="acme-compliance-2")


@pytest.fixture
def api_key(business):
    _, secret = services.create_api_key(business=business, name="Partner app", actor=None)
    return secret


@pytest.fixture
def api(client):
    def call(method, path, key, payload=None):
        headers = {"Authorization": f"Bearer {key}"}
        body = "" if payload is None else json.dumps(payload)
        return getattr(client, method)(path, body, content_type="application/json", headers=headers)

    return call
