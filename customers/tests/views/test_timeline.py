import re

import pytest
from django.utils.html import strip_tags

from customers import services
from customers.models import Activity, Customer, Dropoff

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(business):
    customer, _ = services.get_or_create_customer(business=business, phone="+14155550101", first_name="Ann")
    customer.activities.all().delete()
    return customer


def entries(client, customer):
    """The text of each timeline entry (time and actor, then what happened), oldest first,
    from the first two pages of the timeline."""
    entry = r'<li class="timeline-item">(.*?)</li>\s*(?=<li class="timeline-item">|</ol>)'
    body, items = "", []
    for page in (1, 2):
        page_body = client.get(f"/customers/{customer.pk}/", {"timeline_page": page}).content.decode()
        body += page_body
        items += re.findall(entry, page_body, re.S)
    return [" ".join(strip_tags(item).split()) for item in reversed(items)], body


def test_the_timeline_renders_every_kind_of_activity(client_for, support, business, ann, monkeypatch):
    from customers import queries

    monkeypatch.setattr(queries, "TIMELINE_PER_PAGE", 50)  # every kind on one page
    dropoff = Dropoff.objects.create(business=business, customer=ann, street="1 Main St", city="Springfield")
    account = services.link_account(
        business=business, phone=ann.phone, provider="shop", email="ann@shop.example"
    )
    ann.activities.all().delete()
    merged = [{"id": 5, "name": "Bob Lee", "phone": "+14155550202"}]
    kinds = [
        (Activity.Kind.CREATED, {"phone": ann.phone}, "Customer created with phone +14155550101"),
        (
            Activity.Kind.ORDER_RECORDED,
            {"external_id": "A-1", "amount": "12.5", "currency": "USD", "status": "blocked"},
            "Order A-1 recorded: 12.50 USD blocked",
        ),
        (
            Activity.Kind.ORDER_STATUS_CHANGED,
            {"external_id": "A-1", "old": "pending", "new": "completed"},
            "Order A-1 status: pending → completed",
        ),
        (
            Activity.Kind.ORDER_ADDRESS_CHANGED,
            {"external_id": "A-1", "old_dropoff_id": dropoff.pk, "new_dropoff_id": dropoff.pk + 1000},
            "Order A-1 address: 1 Main St, Springfield → an address since removed",
        ),
        (
            Activity.Kind.ACCOUNT_LINKED,
            {"provider": "shop", "account_id": account.pk},
            "Account linked: shop (ann@shop.example)",
        ),
        (
            Activity.Kind.CONTACT_UPDATED,
            # In the order PostgreSQL's jsonb keeps keys (shorter first) and SQLite's JSON too.
            {"changes": {"email": ["", "a@example.com"], "first_name": ["Ann", "Anna"]}},
            "Contact data updated email: — → a@example.com first name: Ann → Anna",
        ),
        (
            Activity.Kind.BLACKLISTED,
            {"reason": "fraud", "note": "Chargebacks"},
            "Blacklisted Reason: Fraud · “Chargebacks”",
        ),
        (Activity.Kind.UNBLACKLISTED, {"reason": "other", "note": ""}, "Un-blacklisted Reason: Other"),
        (Activity.Kind.NOTE_ADDED, {"note_id": 1}, "Note added"),
        (Activity.Kind.TAGGED, {"tag": "vip"}, "Tag added: vip"),
        (Activity.Kind.UNTAGGED, {"tag": "vip"}, "Tag removed: vip"),
        (Activity.Kind.DELETED, {}, "Deleted"),
        (Activity.Kind.RESTORED, {}, "Restored"),
        (
            Activity.Kind.MERGED,
            {"record_id": 7, "merged": merged, "reason": "Same person"},
            "Merged in #5 Bob Lee (+14155550202): “Same person” · merge #7",
        ),
        (Activity.Kind.MERGED_INTO, {"record_id": 7, "survivor_id": 5}, "Merged into customer #5 · merge #7"),
        (
            Activity.Kind.MERGE_UNDONE,
            {"record_id": 7, "merged_ids": [5, 6]},
            "Merge #7 undone: #5, #6 separate again",
        ),
        (
            Activity.Kind.MERGE_UNDONE,
            {"record_id": 8, "survivor_id": 5},
            "Merge #8 undone: back from customer #5",
        ),
        (
            Activity.Kind.TIER_CHANGED,
            {"from": "BRONZE", "to": "GOLD", "cause": "override", "reason": "Regular since 2019"},
            "Tier changed Bronze → Gold · set by hand: “Regular since 2019”",
        ),
        (
            Activity.Kind.POINTS_CHANGED,
            {"entry_id": 1, "entry_kind": "redeem", "points": -50, "reason": "Free pizza"},
            "Points -50 · redeemed: “Free pizza”",
        ),
        (
            Activity.Kind.PREFERENCE_CHANGED,
            {
                "changes": [
                    {"field": "sms_marketing", "label": "SMS marketing", "old": False, "new": True},
                    {"field": "quiet_hours_start", "label": "Quiet hours start", "old": None, "new": "22:00"},
                ],
                "source": "staff",
                "evidence": "Said yes on the phone",
                "reference": "",
            },
            "Communication preferences changed (staff) SMS marketing: no → yes "
            "Quiet hours start: — → 22:00 “Said yes on the phone”",
        ),
        (
            Activity.Kind.DATA_EXPORTED,
            {"export_id": 3, "type": "GDPR_FULL"},
            "Data export requested: GDPR_FULL · export #3",
        ),
        (Activity.Kind.ANONYMIZATION_REQUESTED, {"request_id": 4}, "Anonymization requested · request #4"),
        (Activity.Kind.ANONYMIZED, {}, "Anonymized personal data removed, orders kept"),
        (
            Activity.Kind.SEGMENT_JOINED,
            {"segment": "VIPs", "cause": "event"},
            "Joined segment “VIPs” · after an event",
        ),
        (
            Activity.Kind.SEGMENT_LEFT,
            {"segment": "VIPs", "cause": "manual"},
            "Left segment “VIPs” · removed by hand",
        ),
        (
            Activity.Kind.PAYMENT_RECORDED,
            {"external_id": "A-1", "transaction_id": "ch_1", "amount": "40.00", "currency": "USD"}
            | {"method": "card", "status": "succeeded"},
            "Payment of 40.00 USD recorded for order A-1 (card, ch_1) succeeded",
        ),
        (
            Activity.Kind.REFUNDED,
            {
                "external_id": "A-1",
                "transaction_id": "ch_1",
                "amount": "15.00",
                "currency": "USD",
                "reason": "Cold",
            },
            "Refunded 15.00 USD of order A-1 (payment ch_1) · “Cold”",
        ),
        (Activity.Kind.PHONE_VERIFIED, {"phone": "+14155550101"}, "Phone +14155550101 verified"),
        (
            Activity.Kind.ADDRESS_ADDED,
            {"dropoff_id": 8, "address": "9 Oak Ave, US"},
            "Address added: 9 Oak Ave, US",
        ),
        (
            Activity.Kind.ADDRESS_CHANGED,
            {"dropoff_id": 8, "old": "9 Oak Ave, US", "new": "5 New Rd, US"},
            "Address changed: 9 Oak Ave, US → 5 New Rd, US",
        ),
        (
            Activity.Kind.ADDRESS_REMOVED,
            {"dropoff_id": 8, "address": "5 New Rd, US"},
            "Address removed: 5 New Rd, US",
        ),
    ]
    assert {kind for kind, _, _ in kinds} == set(Activity.Kind)
    for kind, data, _ in kinds:
        services.log_activity(ann, kind, support, **data)
    unknown = services.log_activity(ann, "points_expired", None, points=5)
    Activity.objects.filter(pk=unknown.pk).update(kind="points_expired")

    texts, body = entries(client_for(support), ann)

    actor = support.get_username()
    for text, (_, _, expected) in zip(texts, kinds, strict=False):
        assert text.endswith(f"{actor} {expected}"), (text, expected)
    assert texts[-1].endswith("system points_expired")
    assert '<a href="/customers/merges/7/">merge #7</a>' in body
    assert '<a href="/customers/5/">customer #5</a>' in body
    assert '<span class="badge badge-danger">Blacklisted</span>' in body
    assert '<span class="badge badge-success">Un-blacklisted</span>' in body
    assert '<span class="badge badge-danger">blocked</span>' in body
    assert Customer.objects.get(pk=ann.pk).activities.count() == len(kinds) + 1
