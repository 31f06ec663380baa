"""Loyalty's webhook events: tier upgrades and downgrades, in the outbox with the change."""

import pytest

from customers import services as customer_services
from customers.models import Customer, WebhookEvent
from loyalty import services
from loyalty.tests.factories import configure, order, recalculate

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(business):
    return customer_services.create_endpoint(
        business=business, url="https://hooks.example.com/in", events=["*"], secret="s", actor=None
    )


def tier_events(business):
    return [
        (event.type, event.data)
        for event in WebhookEvent.objects.filter(
            business=business, type__startswith="customers.tier."
        ).order_by("pk")
    ]


def test_a_recalculation_sends_one_upgrade_event_naming_every_customer_it_moved(business, endpoint):
    configure(business, silver={"spend": "50.00"})
    ann = order(business, "+14155550101", "60.00", days_ago=3)
    bob = order(business, "+14155550102", "70.00", days_ago=3)
    Customer.objects.filter(pk__in=[ann.pk, bob.pk]).update(tier="BRONZE")
    WebhookEvent.objects.filter(type__startswith="customers.tier.").delete()

    recalculate(business)

    [(kind, data)] = tier_events(business)
    assert kind == "customers.tier.upgraded"
    assert sorted(data["changes"], key=lambda change: change["customer_id"]) == [
        {"customer_id": ann.pk, "from": "BRONZE", "to": "SILVER"},
        {"customer_id": bob.pk, "from": "BRONZE", "to": "SILVER"},
    ]


def test_an_override_down_sends_a_downgrade(business, owner, endpoint):
    ann = order(business, "+14155550101", "60.00")
    Customer.objects.filter(pk=ann.pk).update(tier="GOLD")
    services.override_tiers(
        business=business,
        customers=Customer.objects.filter(pk=ann.pk),
        tier="SILVER",
        reason="Test",
        actor=owner,
    )
    assert tier_events(business) == [
        ("customers.tier.downgraded", {"changes": [{"customer_id": ann.pk, "from": "GOLD", "to": "SILVER"}]})
    ]
