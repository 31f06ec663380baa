"""GET/PUT customers/{id}/preferences and GET customers/{id}/consents, as the contract says
and as the OpenAPI document declares them."""

import json

import pytest

from customers import services as customer_services
from customers.tests.api.declared import assert_declared
from privacy.api import preferences
from privacy.models import ConsentEvent
from privacy.tests.factories import customer, grant

pytestmark = pytest.mark.django_db

CONTRACT = [
    "email_marketing",
    "sms_marketing",
    "push_notifications",
    "loyalty_updates",
    "transaction_receipts",
    "promotional_offers",
    "survey_invitations",
    "newsletter_subscription",
    "frequency",
    "preferred_channel",
    "timezone",
    "quiet_hours_start",
    "quiet_hours_end",
]


@pytest.fixture
def api_key(business):
    return customer_services.create_api_key(business=business, name="Script", actor=None)[1]


@pytest.fixture
def call(client, api_key):
    def send(method, path, payload=None, key=api_key):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        if method == "get":
            response = client.get(f"/api/v1/{path}", headers=headers)
        else:
            body = payload if isinstance(payload, str) else json.dumps(payload)
            response = client.put(f"/api/v1/{path}", body, content_type="application/json", headers=headers)
        assert_declared(response)
        return response

    return send


@pytest.fixture
def ann(business):
    return customer(business, timezone="America/New_York")


def test_get_answers_the_defaults_of_a_customer_with_nothing_recorded(call, ann):
    response = call("get", f"customers/{ann.pk}/preferences")

    assert response.status_code == 200
    body = response.json()
    assert list(body) == CONTRACT
    assert body["email_marketing"] is False and body["loyalty_updates"] is True
    assert body["frequency"] == "IMMEDIATE" and body["preferred_channel"] == "EMAIL"
    assert body["timezone"] == "America/New_York"
    assert body["quiet_hours_start"] is None and body["quiet_hours_end"] is None


def test_put_takes_a_subset_with_source_and_evidence_and_answers_the_whole_record(call, ann):
    response = call(
        "put",
        f"customers/{ann.pk}/preferences",
        {
            "sms_marketing": True,
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "08:00",
            "source": "customer_request",
            "evidence": "Texted JOIN to 12345",
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert list(body) == CONTRACT
    assert body["sms_marketing"] is True and body["email_marketing"] is False
    assert (body["quiet_hours_start"], body["quiet_hours_end"]) == ("22:00", "08:00")
    event = ConsentEvent.objects.get(customer=ann)
    assert (event.channel, event.action, event.source, event.evidence, event.actor) == (
        "sms",
        "granted",
        "customer_request",
        "Texted JOIN to 12345",
        None,
    )
    assert call("get", f"customers/{ann.pk}/preferences").json() == body


def test_put_without_a_source_records_the_api_and_quiet_hours_clear_with_null(call, ann):
    call("put", f"customers/{ann.pk}/preferences", {"quiet_hours_start": "22:00", "quiet_hours_end": "06:00"})
    response = call(
        "put",
        f"customers/{ann.pk}/preferences",
        {"quiet_hours_start": None, "quiet_hours_end": None, "email_marketing": False},
    )
    assert response.json()["quiet_hours_start"] is None
    call("put", f"customers/{ann.pk}/preferences", {"email_marketing": True, "evidence": "Ticked the box"})
    assert ConsentEvent.objects.get().source == "api"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"email_marketing": True}, "evidence"),
        ({"email_marketing": "true", "evidence": "x"}, "email_marketing"),
        ({"quiet_hours_start": "10pm", "quiet_hours_end": "08:00"}, "quiet_hours_start"),
        ({"quiet_hours_end": "08:00"}, "quiet_hours_start"),
        ({"frequency": "NEVER"}, "frequency"),
        ({"timezone": "Nowhere/City"}, "timezone"),
        ({"sms": True}, "sms"),
        ({"source": "staff"}, "source"),
        ({"source": "merge"}, "source"),
        ({"evidence": 5, "email_marketing": True}, "evidence"),
    ],
)
def test_a_bad_put_is_a_400_naming_the_field_and_changes_nothing(call, ann, payload, field):
    response = call("put", f"customers/{ann.pk}/preferences", payload)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not ConsentEvent.objects.exists()
    assert not ann.activities.filter(kind="preference_changed").exists()


def test_a_body_that_is_not_an_object_is_a_400(call, ann):
    assert call("put", f"customers/{ann.pk}/preferences", "[1]").status_code == 400
    assert call("put", f"customers/{ann.pk}/preferences", "{").status_code == 400


def test_consents_list_newest_first_with_a_cursor(call, ann, support, monkeypatch):
    monkeypatch.setattr(preferences, "CONSENTS_PAGE", 2)
    grant(ann, "email_marketing", actor=support)
    grant(ann, "sms_marketing", actor=support)
    grant(ann, "push_notifications", actor=support)

    first = call("get", f"customers/{ann.pk}/consents").json()
    assert [event["channel"] for event in first["results"]] == ["push", "sms"]
    assert set(first["results"][0]) == {
        "id",
        "purpose",
        "channel",
        "action",
        "source",
        "actor",
        "evidence",
        "reference",
        "at",
    }
    assert first["results"][0]["actor"] == support.get_username()
    second = call("get", f"customers/{ann.pk}/consents?cursor={first['next']}").json()
    assert [event["channel"] for event in second["results"]] == ["email"]
    assert second["next"] is None
    for cursor in ["abc", "²", "9" * 19]:
        assert call("get", f"customers/{ann.pk}/consents?cursor={cursor}").status_code == 400


def test_another_businesss_customer_is_a_404_and_no_key_a_401(call, ann, other_business):
    other_key = customer_services.create_api_key(business=other_business, name="Other", actor=None)[1]

    for method, path in [("get", "preferences"), ("put", "preferences"), ("get", "consents")]:
        response = call(method, f"customers/{ann.pk}/{path}", {"email_marketing": False}, key=other_key)
        assert response.status_code == 404, path
        assert call(method, f"customers/{ann.pk}/{path}", {}, key=None).status_code == 401
    assert call("get", "customers/999999/preferences").status_code == 404
