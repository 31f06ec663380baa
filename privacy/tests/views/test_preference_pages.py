"""The profile's preferences panel and its edit, the full consent history, compliance's
consent search, the owners' sign-up settings and the read-only admin."""

import pytest

from customers.models import Activity, Membership
from privacy.models import ConsentEvent, PrivacySettings
from privacy.queries import PROFILE_CONSENTS
from privacy.tests.factories import customer, grant, withdraw

pytestmark = pytest.mark.django_db

EDIT = {
    "frequency": "IMMEDIATE",
    "preferred_channel": "SMS",
    "timezone": "",
    "quiet_hours_start": "",
    "quiet_hours_end": "",
    "loyalty_updates": "on",
    "transaction_receipts": "on",
    "promotional_offers": "on",
    "source": "staff",
}


@pytest.fixture
def ann(business):
    return customer(business, first_name="Ann", email="ann@example.com")


def test_the_profile_shows_the_preferences_and_the_consent_history_newest_first(client_for, support, ann):
    grant(ann, "email_marketing", actor=support, evidence="Ticked the newsletter box")
    withdraw(ann, "email_marketing")

    body = client_for(support).get(f"/customers/{ann.pk}/").content.decode()

    assert 'data-testid="preferences-panel"' in body
    assert body.index("Customer request") < body.index("“Ticked the newsletter box”")
    assert "Change preferences" in body
    assert "Full consent history" not in body


def test_the_profile_shows_the_last_events_and_links_to_the_whole_history(client_for, support, ann):
    for _ in range(PROFILE_CONSENTS // 2 + 1):
        grant(ann, "sms_marketing", actor=support)
        withdraw(ann, "sms_marketing")
    client = client_for(support)

    body = client.get(f"/customers/{ann.pk}/").content.decode()
    assert body.count('data-testid="consent-event"') == PROFILE_CONSENTS
    assert f'href="/privacy/customers/{ann.pk}/consents/"' in body

    history = client.get(f"/privacy/customers/{ann.pk}/consents/").content.decode()
    assert history.count('data-testid="consent-event"') == PROFILE_CONSENTS + 2


def test_support_grants_a_consent_with_evidence_from_the_profile(client_for, support, ann):
    response = client_for(support).post(
        f"/privacy/customers/{ann.pk}/preferences/",
        {**EDIT, "sms_marketing": "on", "evidence": "Agreed on the phone, call of 1 Dec"},
    )

    assert response.status_code == 302
    event = ConsentEvent.objects.get(customer=ann)
    assert (event.channel, event.action, event.source, event.actor) == ("sms", "granted", "staff", support)
    assert event.evidence == "Agreed on the phone, call of 1 Dec"
    activity = ann.activities.get(kind=Activity.Kind.PREFERENCE_CHANGED)
    assert {change["field"] for change in activity.data["changes"]} == {"sms_marketing", "preferred_channel"}


def test_a_grant_without_evidence_shows_the_form_again_with_the_error(client_for, support, ann):
    response = client_for(support).post(
        f"/privacy/customers/{ann.pk}/preferences/", {**EDIT, "sms_marketing": "on"}
    )

    assert response.status_code == 200
    assert "a consent needs its evidence" in response.content.decode()
    assert not ConsentEvent.objects.exists()


def test_an_owner_reads_the_preferences_but_does_not_change_them(client_for, owner, ann):
    body = client_for(owner).get(f"/customers/{ann.pk}/").content.decode()
    assert 'data-testid="preferences-panel"' in body and "Change preferences" not in body
    response = client_for(owner).post(f"/privacy/customers/{ann.pk}/preferences/", {**EDIT, "evidence": "x"})
    assert response.status_code == 403


def test_compliance_searches_the_consent_history_by_phone_name_purpose_and_date(
    client_for, compliance, support, business, ann
):
    bob = customer(business, "+14155550202", first_name="Bob")
    grant(ann, "email_marketing", actor=support, evidence="Ann's wording")
    grant(bob, "sms_marketing", actor=support, evidence="Bob's wording")
    client = client_for(compliance)

    def found(**params):
        body = client.get("/privacy/consents/", params).content.decode()
        return [name for name in ("Ann's wording", "Bob's wording") if name.replace("'", "&#x27;") in body]

    assert found() == ["Ann's wording", "Bob's wording"]
    assert found(q="(415) 555-0202") == ["Bob's wording"]
    assert found(q="ann") == ["Ann's wording"]
    assert found(purpose="marketing", channel="sms") == ["Bob's wording"]
    assert found(source="import") == []
    assert found(since="2000-01-01", until="2000-01-02") == []
    assert client.get("/privacy/consents/", {"since": "not a date"}).status_code == 200


def test_support_does_not_reach_the_consent_search(client_for, support):
    assert client_for(support).get("/privacy/consents/").status_code == 403


def test_an_owner_sets_the_signup_opt_in_with_its_wording(client_for, owner, business):
    client = client_for(owner)
    refused = client.post("/privacy/settings/", {"signup_email_marketing": "on", "signup_wording": ""})
    assert refused.status_code == 200 and not PrivacySettings.objects.exists()

    response = client.post(
        "/privacy/settings/", {"signup_email_marketing": "on", "signup_wording": "Email me offers."}
    )

    assert response.status_code == 302
    settings = PrivacySettings.objects.get(business=business)
    assert settings.signup_fields == ["email_marketing"] and settings.updated_by == owner


@pytest.mark.parametrize("role", [Membership.Role.SUPPORT, Membership.Role.COMPLIANCE])
def test_only_owners_change_the_signup_opt_in(client_for, make_member, business, role):
    assert client_for(make_member(business, role)).get("/privacy/settings/").status_code == 403


def test_the_admin_lists_consent_events_and_preferences_read_only(client_for, support, ann, business):
    grant(ann, "email_marketing", actor=support)
    from django.contrib.auth import get_user_model

    admin_user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-for-tests-1")
    client = client_for(admin_user)
    event = ConsentEvent.objects.get()

    assert client.get("/admin/privacy/consentevent/").status_code == 200
    assert client.get("/admin/privacy/communicationpreference/").status_code == 200
    change = client.get(f"/admin/privacy/consentevent/{event.pk}/change/").content.decode()
    assert 'name="_save"' not in change
    assert client.post(f"/admin/privacy/consentevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ConsentEvent.objects.filter(pk=event.pk).exists()
