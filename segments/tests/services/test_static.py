"""Static segments: customers added and removed by hand, by ids and from a CSV of phones."""

import io

import pytest
from django.core.exceptions import ValidationError

from customers.models import Activity, Customer
from segments import services
from segments.tests.factories import dynamic, member_ids, order, static


def test_adding_and_removing_by_ids_says_what_changed_and_what_was_skipped(business, other_business, owner):
    ann, bob = order(business), order(business)
    foreign = order(other_business, "+442071838750")
    segment = static(business)

    added = services.add_ids(segment=segment, customer_ids=[ann.pk, bob.pk, foreign.pk], actor=owner)
    again = services.add_ids(segment=segment, customer_ids=[ann.pk], actor=owner)
    removed = services.remove_ids(segment=segment, customer_ids=[ann.pk], actor=owner)

    assert (added.changed, added.skipped) == (2, {"no such customer": 1})
    assert (again.changed, again.skipped) == (0, {"already in the segment": 1})
    assert (removed.changed, removed.skipped) == (1, {})
    assert member_ids(segment) == {bob.pk}
    segment.refresh_from_db()
    assert segment.member_count == 1
    assert list(
        Activity.objects.filter(customer=ann, kind__startswith="segment_")
        .order_by("id")
        .values_list("kind", "actor")
    ) == [("segment_joined", owner.pk), ("segment_left", owner.pk)]
    assert list(segment.events.filter(customer=ann).order_by("id").values_list("kind", "cause")) == [
        ("joined", "manual"),
        ("left", "manual"),
    ]


def test_a_csv_of_phones_adds_the_customers_and_reports_the_bad_rows(business, owner):
    ann, bob = order(business, "+14155550101"), order(business, "+14155550102")
    segment = static(business)
    data = "name,phone\nAnn,(415) 555-0101\nBob,+1 415 555 0102\nNobody,+14155550199\nJunk,not a phone\n"

    outcome, errors = services.add_from_phones_file(
        segment=segment, file=io.BytesIO(data.encode()), actor=owner
    )

    assert member_ids(segment) == {ann.pk, bob.pk}
    assert outcome.changed == 2
    assert errors == {4: "No customer has the phone +14155550199.", 5: "“not a phone” is not a phone number."}


def test_a_file_without_a_phone_column_is_refused(business, owner):
    segment = static(business)
    with pytest.raises(ValidationError, match="phone"):
        services.add_from_phones_file(segment=segment, file=io.BytesIO(b"name\nAnn\n"), actor=owner)


def test_a_dynamic_segment_takes_no_hand_made_members(business, owner):
    segment = dynamic(business)
    with pytest.raises(ValidationError, match="static"):
        services.add_to_segment(segment=segment, customers=Customer.objects.all(), actor=owner)


def test_an_empty_selection_changes_nothing(business, owner):
    segment = static(business)
    assert services.remove_ids(segment=segment, customer_ids=[], actor=owner).changed == 0
    assert (
        services.add_to_segment(segment=segment, customers=Customer.objects.none(), actor=owner).changed == 0
    )
