from django.core.management import call_command

from customers.models import Activity, Business, Customer
from privacy.models import CommunicationPreference, ConsentEvent, PrivacySettings


def test_seed_demo_gives_customers_preferences_each_consent_with_its_history(db):
    call_command("seed_demo", "--business", "prefs", "--customers", "60", "--orders", "100", "--seed", "3")

    business = Business.objects.get(slug="prefs")
    assert PrivacySettings.objects.get(business=business).signup_fields == ["email_marketing"]
    records = CommunicationPreference.objects.filter(business=business)
    assert 20 < records.count() < Customer.objects.filter(business=business).count()
    sources = set(ConsentEvent.objects.filter(business=business).values_list("source", flat=True))
    assert {"signup", "checkout", "staff", "customer_request"} <= sources
    # A consent with no event behind it does not exist.
    for record in records.filter(email_marketing=True):
        last = ConsentEvent.objects.filter(customer=record.customer, channel="email").order_by("-at").first()
        assert last.action == "granted"
    # One timeline entry per event, but for an anonymization's (one entry withdraws them all).
    events = ConsentEvent.objects.filter(business=business).exclude(source="anonymization").count()
    changes = Activity.objects.filter(business=business, kind="preference_changed")
    assert changes.exclude(data__source="anonymization").count() == events
    events = ConsentEvent.objects.filter(business=business).count()

    call_command("seed_demo", "--business", "prefs", "--customers", "0", "--orders", "0", "--seed", "4")
    assert ConsentEvent.objects.filter(business=business).count() == events
