from datetime import timedelta

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers import services
from customers.models import (
    Activity,
    BlacklistEntry,
    Customer,
    Dropoff,
    DuplicateCandidate,
    MergeRecord,
    Order,
)
from customers.signals import customers_merged

ADDRESS = {"street": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}


def order(business, external_id, phone, amount="10.00", **extra):
    return services.record_order(
        business=business, external_id=external_id, phone=phone, amount=amount, **extra
    ).order


@pytest.fixture
def pair(business, support):
    ann = order(business, "A-1", "+14155550101", "20.00", first_name="Ann", last_name="Lee", address=ADDRESS)
    order(business, "A-2", "+14155550101", "5.00")
    services.tag_customer(customer=ann.customer, name="vip", actor=support)
    services.add_note(customer=ann.customer, body="Prefers the side door", actor=support)
    other = order(
        business,
        "B-1",
        "+14155550202",
        "7.50",
        first_name="Anne",
        last_name="Lee",
        email="ann@example.com",
        address=ADDRESS,
    )
    services.link_account(business=business, phone="+14155550202", provider="shop", email="ann@shop.example")
    services.tag_customer(customer=other.customer, name="late-night", actor=support)
    return Customer.objects.get(pk=ann.customer_id), Customer.objects.get(pk=other.customer_id)


def merge(survivor, merged, actor, **extra):
    return services.merge_customers(
        survivor=survivor, merged=[merged], reason="Same person, two phones", actor=actor, **extra
    )


def test_a_merge_moves_every_row_to_the_survivor_and_recomputes_its_stats(pair, support):
    ann, anne = pair

    record = merge(ann, anne, support)

    ann.refresh_from_db()
    anne.refresh_from_db()
    assert ann.order_count == 3 and ann.total_spent == 32.5
    assert set(ann.orders.values_list("external_id", flat=True)) == {"A-1", "A-2", "B-1"}
    assert ann.accounts.count() == 1 and ann.notes.count() == 1
    assert set(ann.tags.values_list("name", flat=True)) == {"vip", "late-night"}
    assert ann.dropoffs.count() == 1, "the identical address collapsed"
    assert Order.objects.get(external_id="B-1").dropoff.customer == ann
    assert anne.deleted_at and anne.merged_into == ann and anne.order_count == 0
    assert record.survivor == ann and record.merged_ids == [anne.pk] and record.actor == support
    assert record.field_choices["email"] == anne.pk and ann.email == "ann@example.com"
    assert "ann@shop.example" in ann.search_text
    merged_entry = ann.activities.get(kind=Activity.Kind.MERGED)
    assert merged_entry.data["record_id"] == record.pk and merged_entry.data["merged"][0]["id"] == anne.pk
    assert anne.activities.filter(kind=Activity.Kind.MERGED_INTO).exists()


def test_the_merged_phone_resolves_to_the_survivor_for_future_orders(pair, support):
    ann, anne = pair
    merge(ann, anne, support)

    later = order(ann.business, "B-2", "(415) 555-0202", "3.00")

    assert later.customer == ann
    assert services.find_customer_by_phone(ann.business, "+14155550202") == ann


def test_a_chosen_field_comes_from_the_other_record(pair, support):
    ann, anne = pair

    merge(ann, anne, support, field_choices={"first_name": anne.pk})

    ann.refresh_from_db()
    assert ann.first_name == "Anne" and ann.last_name == "Lee" and ann.phone == "+14155550101"


def test_blacklisting_carries_over_with_every_reason_kept(pair, support):
    ann, anne = pair
    services.blacklist_customer(customer=anne, reason="fraud", note="chargebacks", actor=support)

    merge(ann, anne, support)

    ann.refresh_from_db()
    assert ann.is_blacklisted
    assert list(ann.blacklist_entries.values_list("reason", "note")) == [("fraud", "chargebacks")]
    assert order(ann.business, "A-3", "+14155550101").status == Order.Status.BLOCKED


def test_the_address_limit_never_blocks_a_merge(business, support):
    for number in range(Dropoff.MAX_PER_CUSTOMER):
        order(business, f"A-{number}", "+14155550101", address={**ADDRESS, "street": f"{number} Elm St"})
        order(business, f"B-{number}", "+14155550202", address={**ADDRESS, "street": f"{number} Oak St"})
    ann, bob = Customer.objects.order_by("pk")

    merge(ann, bob, support)

    assert ann.dropoffs.count() == 2 * Dropoff.MAX_PER_CUSTOMER
    assert ann.dropoffs.filter(is_default=True).count() == 1


def test_the_domain_signal_is_sent_inside_the_transaction(pair, support):
    ann, anne = pair
    received = []

    def receiver(record, survivor, merged, **kwargs):
        received.append((record.pk, survivor.pk, [customer.pk for customer in merged]))

    customers_merged.connect(receiver)
    try:
        record = merge(ann, anne, support)
    finally:
        customers_merged.disconnect(receiver)
    assert received == [(record.pk, ann.pk, [anne.pk])]


@pytest.mark.parametrize(
    "problem, message",
    [
        ("itself", "cannot be merged with itself"),
        ("other business", "different businesses"),
        ("anonymized", "is anonymized"),
        ("merged", "was already merged into"),
        ("no reason", "Say why"),
    ],
)
def test_a_merge_is_refused_with_a_clear_message(pair, support, other_business, problem, message):
    ann, anne = pair
    reason = "dupes"
    if problem == "itself":
        anne = ann
    elif problem == "other business":
        anne = order(other_business, "G-1", "+447911123456").customer
    elif problem == "anonymized":
        Customer.objects.filter(pk=anne.pk).update(anonymized_at=timezone.now())
    elif problem == "merged":
        third = order(ann.business, "C-1", "+14155550303").customer
        services.merge_customers(survivor=third, merged=[anne], reason="x", actor=support)
    else:
        reason = " "

    with pytest.raises(ValidationError, match=message):
        services.merge_customers(survivor=ann, merged=[anne], reason=reason, actor=support)
    assert not MergeRecord.objects.filter(survivor=ann).exists()


def test_undo_brings_back_exactly_what_moved_and_newer_rows_stay(pair, support):
    ann, anne = pair
    before = {
        label: list(model.objects.order_by("pk").values_list("pk", "customer_id"))
        for label, model in [("orders", Order), ("dropoffs", Dropoff), ("blacklist", BlacklistEntry)]
    }
    record = merge(ann, anne, support, field_choices={"first_name": anne.pk})
    newer = order(ann.business, "B-2", "+14155550202", "3.00")

    services.undo_merge(record=record, actor=support)

    ann.refresh_from_db()
    anne.refresh_from_db()
    assert anne.deleted_at is None and anne.merged_into is None and anne.first_name == "Anne"
    assert ann.first_name == "Ann" and ann.email == ""
    assert newer.customer_id == ann.pk and Order.objects.get(pk=newer.pk).customer_id == ann.pk
    after = {
        label: list(model.objects.exclude(pk=newer.pk).order_by("pk").values_list("pk", "customer_id"))
        for label, model in [("orders", Order), ("dropoffs", Dropoff), ("blacklist", BlacklistEntry)]
    }
    assert after == before
    assert Order.objects.get(external_id="B-1").dropoff.customer == anne
    assert set(anne.tags.values_list("name", flat=True)) == {"late-night"}
    assert set(ann.tags.values_list("name", flat=True)) == {"vip"}
    assert (anne.order_count, ann.order_count) == (1, 3)
    assert ann.activities.filter(kind=Activity.Kind.MERGE_UNDONE).exists()
    assert anne.activities.filter(kind=Activity.Kind.MERGE_UNDONE).exists()
    record.refresh_from_db()
    assert record.undone_by == support and record.undone_at


def test_undo_is_refused_when_it_can_no_longer_be_faithful(pair, support):
    ann, anne = pair
    record = merge(ann, anne, support)
    services.undo_merge(record=record, actor=support)
    with pytest.raises(ValidationError, match="already undone"):
        services.undo_merge(record=record, actor=support)

    record = merge(ann, anne, support)
    MergeRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(days=31))
    record.refresh_from_db()
    with pytest.raises(ValidationError, match="within 30 days"):
        services.undo_merge(record=record, actor=support)


def test_undo_is_refused_when_the_survivor_was_merged_away_since(pair, support):
    ann, anne = pair
    record = merge(ann, anne, support)
    third = order(ann.business, "C-1", "+14155550303").customer
    services.merge_customers(survivor=third, merged=[ann], reason="again", actor=support)

    with pytest.raises(ValidationError, match="undo that first"):
        services.undo_merge(record=record, actor=support)


def test_undo_is_refused_when_a_new_order_uses_an_address_that_came_with_the_merge(business, support):
    order(business, "A-1", "+14155550101")
    order(business, "B-1", "+14155550202", address=ADDRESS)
    ann, bob = Customer.objects.order_by("pk")
    record = merge(ann, bob, support)
    order(business, "A-2", "+14155550101", address=ADDRESS)

    with pytest.raises(ValidationError, match="use addresses that came with the merged customers"):
        services.undo_merge(record=record, actor=support)


def test_every_foreign_key_to_customer_has_a_merge_handling():
    unhandled = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models(include_auto_created=True)
        for field in model._meta.get_fields()
        if field.concrete
        and field.is_relation
        and field.related_model is Customer
        and (field.many_to_one or field.one_to_one)
        and f"{model._meta.label}.{field.name}" not in services.MERGE_HANDLING
    ]
    assert not unhandled, f"Say in services.MERGE_HANDLING what a merge does with {unhandled}"


def test_duplicate_candidates_of_the_merged_customers_go_away(pair, support):
    ann, anne = pair
    services.update_contact(customer=ann, email="ANN@example.com", actor=support)
    services.detect_duplicates(business=ann.business)
    assert DuplicateCandidate.objects.filter(customer_a=ann, customer_b=anne).exists()

    merge(ann, anne, support)

    assert not DuplicateCandidate.objects.exists()
