"""A merge keeps the most restrictive consent of the merged records and moves their consent
histories to the survivor; an undo moves them back and gives back what the merge withdrew."""

import pytest

from customers import services as customer_services
from privacy import queries
from privacy.models import ConsentEvent
from privacy.tests.factories import customer, grant, withdraw

pytestmark = pytest.mark.django_db


def merge(survivor, *merged, actor):
    return customer_services.merge_customers(
        survivor=survivor, merged=merged, reason="Same person", actor=actor
    )


def consents(person):
    record = queries.preferences_of(person)
    return {
        name: getattr(record, name) for name in ("email_marketing", "sms_marketing", "push_notifications")
    }


def test_the_survivor_keeps_a_consent_only_if_every_merged_record_had_it(business, support):
    ann = customer(business, "+14155550101")
    bob = customer(business, "+14155550202")
    grant(ann, "email_marketing", "sms_marketing", actor=support)
    grant(bob, "email_marketing", actor=support)
    withdraw(bob, "email_marketing")
    grant(bob, "sms_marketing", actor=support)

    record = merge(ann, bob, actor=support)

    # email: bob withdrew it; sms: both granted; push: nobody.
    assert consents(ann) == {"email_marketing": False, "sms_marketing": True, "push_notifications": False}
    merge_event = ConsentEvent.objects.get(customer=ann, source="merge")
    assert (merge_event.channel, merge_event.action, merge_event.reference) == (
        "email",
        "withdrawn",
        f"merge #{record.pk}",
    )
    assert merge_event.actor == support


def test_a_merged_record_without_consent_withdraws_the_survivors_grant(business, support):
    ann = customer(business, "+14155550101")
    bob = customer(business, "+14155550202")  # never opted in: the defaults
    grant(ann, "sms_marketing", actor=support)

    merge(ann, bob, actor=support)

    assert consents(ann)["sms_marketing"] is False


def test_the_merged_records_consent_histories_move_to_the_survivor_and_undo_moves_them_back(
    business, support
):
    ann = customer(business, "+14155550101")
    bob = customer(business, "+14155550202")
    grant(ann, "email_marketing", actor=support)
    grant(bob, "email_marketing", "push_notifications", actor=support)
    bobs_events = set(ConsentEvent.objects.filter(customer=bob).values_list("pk", flat=True))

    record = merge(ann, bob, actor=support)

    assert bobs_events <= set(ConsentEvent.objects.filter(customer=ann).values_list("pk", flat=True))
    assert not ConsentEvent.objects.filter(customer=bob).exists()
    history, _ = queries.consent_history(ann)
    assert len(history) == 3  # ann's grant and bob's two; nothing restricted (push was ann's off)

    customer_services.undo_merge(record=record, actor=support)

    assert set(ConsentEvent.objects.filter(customer=bob).values_list("pk", flat=True)) == bobs_events
    assert consents(bob) == {"email_marketing": True, "sms_marketing": False, "push_notifications": True}


def test_an_undo_gives_back_the_consents_the_merge_withdrew_with_an_event(business, support):
    ann = customer(business, "+14155550101")
    bob = customer(business, "+14155550202")
    grant(ann, "email_marketing", "sms_marketing", actor=support)
    record = merge(ann, bob, actor=support)
    assert consents(ann)["email_marketing"] is False

    customer_services.undo_merge(record=record, actor=support)

    assert consents(ann) == {"email_marketing": True, "sms_marketing": True, "push_notifications": False}
    restored = ConsentEvent.objects.filter(customer=ann, source="merge", action="granted")
    assert sorted(restored.values_list("channel", flat=True)) == ["email", "sms"]
    assert all("undone" in event.evidence for event in restored)


def test_an_undo_leaves_a_consent_changed_since_the_merge(business, support):
    ann = customer(business, "+14155550101")
    bob = customer(business, "+14155550202")
    grant(ann, "email_marketing", "sms_marketing", actor=support)
    record = merge(ann, bob, actor=support)
    grant(ann, "sms_marketing", actor=support, evidence="Asked again, said yes")
    withdraw(ann, "sms_marketing")

    customer_services.undo_merge(record=record, actor=support)

    # sms was changed since the merge (granted, then withdrawn): the undo does not touch it.
    assert consents(ann) == {"email_marketing": True, "sms_marketing": False, "push_notifications": False}
