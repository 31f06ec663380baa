"""The consent events are append-only: PostgreSQL refuses to change or delete them."""

import pytest
from django.db import DatabaseError, transaction

from conftest import requires_postgres
from privacy.models import ConsentEvent
from privacy.tests.factories import customer, grant

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, requires_postgres]


@pytest.fixture
def event(business, support):
    grant(customer(business), "email_marketing", actor=support)
    return ConsentEvent.objects.get()


def test_an_event_cannot_be_changed(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ConsentEvent.objects.filter(pk=event.pk).update(action="withdrawn")
    assert ConsentEvent.objects.get().action == "granted"


def test_an_event_cannot_be_deleted(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ConsentEvent.objects.filter(pk=event.pk).delete()
    assert ConsentEvent.objects.filter(pk=event.pk).exists()


def test_a_merge_may_move_an_event_to_another_customer(event, business):
    survivor = customer(business, "+14155550202")
    ConsentEvent.objects.filter(pk=event.pk).update(customer=survivor)
    assert ConsentEvent.objects.get().customer_id == survivor.pk
