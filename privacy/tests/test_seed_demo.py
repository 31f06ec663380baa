from django.core.management import call_command

from customers.models import Business
from privacy.models import AnonymizationRequest, DataExport


def test_seed_demo_makes_requests_in_each_state(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", "--business", "privacy", "--customers", "40", "--orders", "100", "--seed", "5")

    business = Business.objects.get(slug="privacy")
    exports = DataExport.objects.filter(business=business)
    assert set(exports.values_list("status", flat=True)) == {"COMPLETED", "PENDING", "EXPIRED"}
    assert exports.filter(status="PENDING", needs_approval=True).count() == 1
    assert exports.get(status="COMPLETED").file
    requests = AnonymizationRequest.objects.filter(business=business)
    assert sorted(requests.values_list("status", flat=True)) == ["done", "rejected", "requested"]
    assert requests.get(status="done").customer.anonymized_at

    call_command("seed_demo", "--business", "privacy", "--customers", "40", "--orders", "100", "--seed", "5")
    assert DataExport.objects.filter(business=business).count() == 4
