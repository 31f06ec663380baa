"""Segments follow the privacy events: a consent change and an anonymization re-evaluate the
customer in the next batch."""

import pytest

from privacy import services
from privacy.tests.factories import grant
from segments import services as segment_services
from segments.models import PendingEvaluation
from segments.tests.factories import dynamic, member_ids, order

pytestmark = pytest.mark.django_db

SMS_OPT_IN = {"operator": "AND", "rules": [{"field": "sms_opt_in", "operator": "equals", "value": True}]}
NOT_OPTED_IN = {"operator": "AND", "rules": [{"field": "sms_opt_in", "operator": "equals", "value": False}]}


def evaluated():
    segment_services.evaluate_pending()
    assert not PendingEvaluation.objects.exists()


def test_a_consent_granted_then_withdrawn_moves_the_customer_in_and_out(business, support):
    segment = dynamic(business, SMS_OPT_IN, "Texting allowed")
    ann = order(business)
    evaluated()

    grant(ann, "sms_marketing", actor=support)
    evaluated()
    assert member_ids(segment) == {ann.pk}

    services.update_preferences(
        customer=ann, changes={"sms_marketing": False}, source="customer_request", actor=support
    )
    evaluated()
    assert member_ids(segment) == set()


def test_an_anonymization_withdraws_the_consents_and_the_segments_follow(business, support):
    opted_in = dynamic(business, SMS_OPT_IN, "Texting allowed")
    not_opted_in = dynamic(business, NOT_OPTED_IN, "Not texting")
    ann = order(business)
    grant(ann, "sms_marketing", actor=support)
    evaluated()
    assert (member_ids(opted_in), member_ids(not_opted_in)) == ({ann.pk}, set())

    services.anonymize_customers(business=business, customer_ids=[ann.pk], actor=None)
    evaluated()

    assert (member_ids(opted_in), member_ids(not_opted_in)) == (set(), {ann.pk})
