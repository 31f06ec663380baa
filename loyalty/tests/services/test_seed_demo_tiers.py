from django.core.management import call_command

from customers.models import Business, Customer
from loyalty.models import CustomerLifetimeValue, LifetimeValueFit, TierConfiguration, TierState


def test_seed_demo_gives_the_business_tiers_in_every_state_and_lifetime_values(db):
    call_command("seed_demo", "--business", "tiers", "--customers", "60", "--orders", "400", "--seed", "3")

    business = Business.objects.get(slug="tiers")
    assert TierConfiguration.objects.filter(business=business).exists()
    tiers = set(Customer.objects.filter(business=business).values_list("tier", flat=True))
    assert {"BRONZE", "PLATINUM"} <= tiers and len(tiers) >= 3
    states = TierState.objects.filter(customer__business=business)
    assert states.exclude(override_tier="").filter(override_expires_at__isnull=True).count() == 2
    assert states.exclude(override_tier="").filter(override_expires_at__isnull=False).count() == 2
    assert states.filter(override_tier="", below_since__isnull=False).count() == 2
    fit = LifetimeValueFit.objects.get(business=business)
    values = CustomerLifetimeValue.objects.filter(business=business)
    assert values.count() == fit.customers > 0
    assert values.filter(predicted_365d__gt=0).exists()
