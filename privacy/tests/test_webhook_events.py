"""Privacy's webhook events: a data export requested, completed or failed."""

import pytest

from customers import services as customer_services
from customers.models import WebhookEvent
from privacy import services
from privacy.services import exports

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(business):
    return customer_services.create_endpoint(
        business=business, url="https://hooks.example.com/in", events=["*"], secret="s", actor=None
    )


def export_events():
    return [
        (e.type, e.data)
        for e in WebhookEvent.objects.filter(type__startswith="customers.data_export.").order_by("pk")
    ]


def test_an_export_sends_requested_then_completed(
    business, zeb, compliance, endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        export = services.request_data_export(
            customer=zeb, type="GDPR_FULL", reason="Subject's email", actor=compliance
        )
    data = {"export_id": export.pk, "customer_id": zeb.pk, "type": "GDPR_FULL", "regulation": "GDPR"}
    assert export_events() == [
        ("customers.data_export.requested", data),
        ("customers.data_export.completed", data),
    ]


def test_a_failed_export_sends_failed(
    business, zeb, compliance, endpoint, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(export):
        raise RuntimeError("disk full")

    monkeypatch.setattr(exports, "build_zip", broken)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_data_export(
            customer=zeb, type="GDPR_FULL", reason="Subject's email", actor=compliance
        )
    assert [kind for kind, _ in export_events()] == [
        "customers.data_export.requested",
        "customers.data_export.failed",
    ]
