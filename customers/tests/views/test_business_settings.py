import pytest
from django.core.exceptions import ValidationError

from customers import services
from customers.models import AuditEntry

pytestmark = pytest.mark.django_db

SETTINGS = {
    "name": "Acme Fine Foods",
    "default_country": "GB",
    "currency": "gbp",
    "api_requests_per_minute": 600,
    "timezone": "Europe/London",
}


def test_an_owner_edits_the_business_settings(client_for, owner, business):
    client = client_for(owner)
    page = client.get("/settings/").content.decode()
    assert 'href="/settings/"' in page  # the navigation
    assert 'value="Acme Foods"' in page and '<option value="US" selected>US (+1)</option>' in page

    response = client.post("/settings/", SETTINGS, follow=True)
    assert "Business settings saved." in response.content.decode()
    business.refresh_from_db()
    assert (business.name, business.default_country, business.currency, business.timezone) == (
        "Acme Fine Foods",
        "GB",
        "GBP",
        "Europe/London",
    )
    assert business.api_requests_per_minute == 600


def test_the_new_time_zone_and_country_apply_to_the_next_pages(client_for, owner, business):
    londoner, _ = services.get_or_create_customer(business=business, phone="+442079460958")
    client = client_for(owner)
    client.post("/settings/", SETTINGS)
    assert "Times in Europe/London" in client.get("/customers/").content.decode()
    # A national number is read as British now.
    found = client.get("/customers/", {"q": "020 7946 0958"}).context["page_obj"]
    assert [customer.pk for customer in found] == [londoner.pk]


@pytest.mark.parametrize(
    "field, value",
    [("timezone", "Mars/Olympus"), ("default_country", "XX"), ("currency", "1$"), ("name", "   ")],
)
def test_bad_settings_are_refused_by_the_form_and_the_service(client_for, owner, business, field, value):
    response = client_for(owner).post("/settings/", {**SETTINGS, field: value})
    assert response.status_code == 200 and response.context["form"].errors
    with pytest.raises(ValidationError) as error:
        services.update_business_settings(business=business, actor=owner, **{**SETTINGS, field: value})
    assert field in error.value.message_dict
    business.refresh_from_db()
    assert business.name == "Acme Foods"


def test_the_service_returns_what_changed(business, owner):
    changes = services.update_business_settings(
        business=business,
        actor=owner,
        name="Acme Foods",
        default_country="US",
        currency="EUR",
        timezone="UTC",
    )
    assert changes == {"currency": ["USD", "EUR"]}


@pytest.mark.parametrize("role", ["support", "compliance"])
def test_only_owners_reach_the_settings(client_for, make_member, business, role):
    client = client_for(make_member(business, role))
    assert client.get("/settings/").status_code == 403
    assert client.post("/settings/", SETTINGS).status_code == 403
    assert 'href="/settings/"' not in client.get("/customers/").content.decode()
    business.refresh_from_db()
    assert business.name == "Acme Foods"


def test_an_owner_changes_only_their_own_business(client_for, make_member, business, other_business):
    stranger = make_member(other_business, "owner")
    client_for(stranger).post("/settings/", SETTINGS)
    business.refresh_from_db()
    other_business.refresh_from_db()
    assert business.name == "Acme Foods" and other_business.name == "Acme Fine Foods"


def test_a_settings_change_writes_one_audit_entry_with_who_and_what_changed(owner, business):
    services.update_business_settings(business=business, actor=owner, **SETTINGS)
    services.update_business_settings(business=business, actor=owner, **SETTINGS)  # nothing changes

    entry = AuditEntry.objects.get(business=business)
    assert (entry.actor, entry.action) == (owner, "business.settings_changed")
    assert entry.data["changes"]["timezone"][1] == "Europe/London"
    assert entry.data["changes"]["currency"][1] == "GBP"
