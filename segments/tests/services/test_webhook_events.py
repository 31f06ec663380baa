"""Segments' webhook events: customers assigned to and unassigned from a segment."""

import pytest

from customers import services as customer_services
from customers.models import Customer, WebhookEvent
from segments import services
from segments.models import Segment

pytestmark = pytest.mark.django_db


def test_adding_and_removing_members_sends_assigned_and_unassigned_with_the_ids(business, owner):
    customer_services.create_endpoint(
        business=business,
        url="https://hooks.example.com/in",
        events=["customers.segment.assigned", "customers.segment.unassigned"],
        secret="s",
        actor=None,
    )
    ids = [
        customer_services.get_or_create_customer(business=business, phone=f"+1415555010{n}")[0].pk
        for n in range(3)
    ]
    segment, _ = services.create_segment(
        business=business, actor=owner, name="Hand-picked", kind=Segment.Kind.STATIC
    )
    services.add_to_segment(segment=segment, customers=Customer.objects.filter(pk__in=ids), actor=owner)
    services.remove_from_segment(segment=segment, customers=Customer.objects.filter(pk=ids[0]), actor=owner)

    events = [(event.type, event.data) for event in WebhookEvent.objects.order_by("pk")]
    assert events == [
        ("customers.segment.assigned", {"customer_ids": ids, "segment_id": segment.pk, "cause": "manual"}),
        (
            "customers.segment.unassigned",
            {"customer_ids": [ids[0]], "segment_id": segment.pk, "cause": "manual"},
        ),
    ]


def test_no_endpoint_no_events(business, owner):
    customer = customer_services.get_or_create_customer(business=business, phone="+14155550101")[0]
    segment, _ = services.create_segment(
        business=business, actor=owner, name="Hand-picked", kind=Segment.Kind.STATIC
    )
    services.add_to_segment(segment=segment, customers=Customer.objects.filter(pk=customer.pk), actor=owner)
    assert not WebhookEvent.objects.exists()
