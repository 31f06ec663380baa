from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers import services as customer_services
from customers.models import Customer
from privacy import services
from privacy.models import AnonymizationRequest, RetentionRule
from privacy.tests.conftest import record

pytestmark = pytest.mark.django_db


def deleted_days_ago(customer, days):
    customer_services.delete_customer(customer=customer, actor=None)
    Customer.objects.filter(pk=customer.pk).update(deleted_at=timezone.now() - timedelta(days=days))


def test_deleted_customers_are_anonymized_after_the_restore_period(business, zeb, settings):
    recent = record(business, "R-1", phone="+14155550166", first_name="Rita").customer
    deleted_days_ago(zeb, 31)
    deleted_days_ago(recent, 29)

    assert services.run_retention_everywhere() == {"anonymized": 1, "flagged": 0}

    zeb.refresh_from_db()
    recent.refresh_from_db()
    assert zeb.anonymized_at and zeb.first_name == "" and zeb.deleted_at
    assert recent.anonymized_at is None and recent.first_name == "Rita"
    request = AnonymizationRequest.objects.get()
    assert (request.customer, request.source, request.status) == (zeb, "retention", "done")
    # The nightly run again: nothing more to do.
    assert services.run_retention_everywhere() == {"anonymized": 0, "flagged": 0}


def test_the_restore_period_is_a_setting(business, zeb, settings):
    settings.SOFT_DELETE_RESTORE_DAYS = 60
    deleted_days_ago(zeb, 31)
    assert services.anonymize_expired_customers(business=business) == 0


def test_an_anonymized_customer_cannot_be_restored(business, zeb):
    deleted_days_ago(zeb, 31)
    services.anonymize_expired_customers(business=business)
    zeb.refresh_from_db()
    with pytest.raises(ValidationError, match="cannot be restored"):
        customer_services.restore_customer(customer=zeb, actor=None)


def test_merged_customers_are_left_to_their_survivor(business, zeb, support):
    twin = record(business, "T-1", phone="+14155550124").customer
    customer_services.merge_customers(survivor=zeb, merged=[twin], reason="Same person", actor=support)
    Customer.objects.filter(pk=twin.pk).update(deleted_at=timezone.now() - timedelta(days=90))
    assert services.anonymize_expired_customers(business=business) == 0


def test_a_business_rule_flags_customers_without_an_order_for_review(business, zeb, compliance):
    quiet = record(
        business, "Q-1", phone="+14155550155", placed_at=timezone.now() - timedelta(days=3 * 365)
    ).customer
    assert services.flag_inactive_customers(business=business) == 0
    services.set_retention_rule(business=business, inactive_years=2, actor=compliance)

    assert services.flag_inactive_customers(business=business) == 1
    assert services.flag_inactive_customers(business=business) == 0
    request = AnonymizationRequest.objects.get()
    assert (request.customer, request.status, request.source) == (quiet, "requested", "retention")
    quiet.refresh_from_db()
    assert quiet.anonymized_at is None


def test_compliance_sets_the_rule_on_the_page(client_for, compliance, support, business):
    client_for(compliance).post("/privacy/retention/", {"inactive_years": "3"})
    assert RetentionRule.objects.get(business=business).inactive_years == 3
    client_for(compliance).post("/privacy/retention/", {"inactive_years": "-1"})
    assert RetentionRule.objects.get(business=business).inactive_years == 3
    assert client_for(support).post("/privacy/retention/", {"inactive_years": "1"}).status_code == 403
