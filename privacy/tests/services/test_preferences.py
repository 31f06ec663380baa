"""Preferences and their proof of consent: every change of a consent field is an event,
written with the change; defaults are read without writing."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from customers.models import Activity
from privacy import queries, services
from privacy.models import CommunicationPreference, ConsentEvent
from privacy.tests.factories import customer, grant, withdraw

pytestmark = pytest.mark.django_db


def events(person):
    return list(
        ConsentEvent.objects.filter(customer=person)
        .order_by("id")
        .values_list("purpose", "channel", "action", "source")
    )


def test_reading_a_customer_without_a_record_gives_the_defaults_with_marketing_off_and_writes_nothing(
    business,
):
    ann = customer(business)

    record = queries.preferences_of(ann)

    assert record.pk is None
    assert (record.email_marketing, record.sms_marketing, record.push_notifications) == (False, False, False)
    assert (record.loyalty_updates, record.transaction_receipts) == (True, True)
    assert not CommunicationPreference.objects.exists() and not ConsentEvent.objects.exists()


def test_a_grant_writes_its_event_with_the_evidence_and_a_timeline_entry(business, support):
    ann = customer(business)

    record = grant(ann, "sms_marketing", actor=support)

    assert record.sms_marketing is True
    [event] = ConsentEvent.objects.filter(customer=ann)
    assert (event.purpose, event.channel, event.action, event.source) == (
        "marketing",
        "sms",
        "granted",
        "staff",
    )
    assert (event.actor, event.evidence) == (support, "Said yes on the phone")
    activity = ann.activities.get(kind=Activity.Kind.PREFERENCE_CHANGED)
    assert activity.actor == support
    assert activity.data["changes"] == [
        {"field": "sms_marketing", "label": "SMS marketing", "old": False, "new": True}
    ]
    assert activity.data["evidence"] == "Said yes on the phone"


def test_a_grant_without_evidence_is_refused_and_changes_nothing(business, support):
    ann = customer(business)

    with pytest.raises(ValidationError) as error:
        grant(ann, "email_marketing", actor=support, evidence="  ")

    assert "evidence" in error.value.message_dict
    assert not CommunicationPreference.objects.exists() and not ConsentEvent.objects.exists()


def test_a_withdrawal_needs_no_evidence_and_each_consent_changed_has_its_event(business, support):
    ann = customer(business)
    grant(ann, "email_marketing", "sms_marketing", actor=support)

    withdraw(ann, "email_marketing", "sms_marketing", "survey_invitations")

    assert events(ann)[2:] == [
        ("marketing", "email", "withdrawn", "customer_request"),
        ("marketing", "sms", "withdrawn", "customer_request"),
    ]  # survey_invitations was off already: no change, no event


def test_other_preferences_change_on_the_timeline_without_consent_events(business, support):
    ann = customer(business)

    record = services.update_preferences(
        customer=ann,
        changes={"frequency": "WEEKLY_DIGEST", "quiet_hours_start": "22:00", "quiet_hours_end": "07:30"},
        source="staff",
        actor=support,
    )

    assert record.quiet_hours_start == dt.time(22) and record.quiet_hours_end == dt.time(7, 30)
    assert not ConsentEvent.objects.exists()
    changes = ann.activities.get(kind=Activity.Kind.PREFERENCE_CHANGED).data["changes"]
    assert [(c["field"], c["new"]) for c in changes] == [
        ("frequency", "WEEKLY_DIGEST"),
        ("quiet_hours_start", "22:00"),
        ("quiet_hours_end", "07:30"),
    ]


def test_saving_the_same_values_writes_nothing(business, support):
    ann = customer(business)
    grant(ann, "email_marketing", actor=support)

    grant(ann, "email_marketing", actor=support)

    assert ConsentEvent.objects.count() == 1
    assert ann.activities.filter(kind=Activity.Kind.PREFERENCE_CHANGED).count() == 1


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"email_marketing": "yes"}, "email_marketing"),
        ({"email_marketing": 1}, "email_marketing"),
        ({"frequency": "HOURLY"}, "frequency"),
        ({"preferred_channel": "FAX"}, "preferred_channel"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"quiet_hours_start": "25:00", "quiet_hours_end": "07:00"}, "quiet_hours_start"),
        ({"quiet_hours_start": "22:00"}, "quiet_hours_end"),
        ({"quiet_hours_start": "22:00", "quiet_hours_end": "22:00"}, "quiet_hours_end"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
)
def test_a_wrong_value_is_an_error_naming_its_field(business, support, changes, field):
    with pytest.raises(ValidationError) as error:
        services.update_preferences(
            customer=customer(business), changes=changes, source="staff", actor=support
        )
    assert field in error.value.message_dict


def test_an_unknown_source_is_refused(business):
    with pytest.raises(ValidationError) as error:
        grant(customer(business), "email_marketing", source="rumour")
    assert "source" in error.value.message_dict


def test_a_business_whose_customers_opt_in_at_signup_evidences_it_with_its_wording(business, owner):
    services.update_privacy_settings(
        business=business, actor=owner, signup_email_marketing=True, signup_wording="Send me deals by email."
    )
    from customers import services as customer_services

    order = customer_services.record_order(
        business=business, external_id="A-1", phone="+14155550101", amount="5"
    )
    ann = order.order.customer

    assert queries.preferences_of(ann).email_marketing is True
    assert queries.preferences_of(ann).sms_marketing is False
    [event] = ConsentEvent.objects.filter(customer=ann)
    assert (event.source, event.action, event.channel, event.evidence) == (
        "signup",
        "granted",
        "email",
        "Send me deals by email.",
    )
    # A known customer's next order is no sign-up.
    customer_services.record_order(business=business, external_id="A-2", phone="+14155550101", amount="5")
    assert ConsentEvent.objects.count() == 1


def test_a_signup_opt_in_needs_the_wording_customers_see(business, owner):
    with pytest.raises(ValidationError) as error:
        services.update_privacy_settings(business=business, actor=owner, signup_sms_marketing=True)
    assert "signup_wording" in error.value.message_dict


def test_an_anonymized_customer_cannot_be_opted_in_but_can_be_opted_out(business, support):
    from django.utils import timezone

    from customers.models import Customer

    ann = customer(business)
    grant(ann, "email_marketing", actor=support)
    Customer.objects.filter(pk=ann.pk).update(anonymized_at=timezone.now())
    ann.refresh_from_db()

    with pytest.raises(ValidationError, match="anonymized"):
        grant(ann, "sms_marketing", actor=support)
    assert withdraw(ann, "email_marketing").email_marketing is False
