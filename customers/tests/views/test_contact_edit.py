import pytest
from django.core.exceptions import ValidationError

from customers import services
from customers.forms import ContactForm
from customers.models import Activity, Customer

pytestmark = pytest.mark.django_db

CONTACT = {
    "phone": "+14155550101",
    "first_name": "Ann",
    "last_name": "Lee",
    "status": "active",
    "language": "en",
    "timezone": "America/New_York",
}


@pytest.fixture
def ann(business):
    customer, _ = services.get_or_create_customer(
        business=business, phone="+14155550101", first_name="Ann", last_name="Lee"
    )
    Customer.objects.filter(pk=customer.pk).update(language="en", timezone="America/New_York")
    customer.refresh_from_db()
    return customer


def edit(client, customer, **changes):
    return client.post(f"/customers/{customer.pk}/edit/", {**CONTACT, **changes})


@pytest.mark.parametrize(
    "field, value",
    [
        ("timezone", "Mars/Olympus"),
        ("language", "klingon-xx"),
        ("language", '">‹img src=x>'),
        ("timezone", "en"),
    ],
)
def test_the_contact_form_refuses_a_language_or_time_zone_not_in_its_lists(
    client_for, support, ann, field, value
):
    response = edit(client_for(support), ann, **{field: value})
    assert response.status_code == 200 and response.context["form"].errors[field]
    ann.refresh_from_db()
    assert (ann.language, ann.timezone) == ("en", "America/New_York")


def test_the_contact_form_offers_iana_zones_and_iso_languages_and_saves_a_choice(client_for, support, ann):
    client = client_for(support)
    body = client.get(f"/customers/{ann.pk}/edit/").content.decode()
    assert '<option value="Europe/Berlin">Europe/Berlin</option>' in body
    assert '<option value="de">German</option>' in body
    assert "en-gb" not in body

    edit(client, ann, language="de", timezone="Europe/Berlin")
    ann.refresh_from_db()
    assert (ann.language, ann.timezone) == ("de", "Europe/Berlin")


def test_update_contact_refuses_a_time_zone_or_language_not_in_the_lists(ann, support):
    with pytest.raises(ValidationError) as error:
        services.update_contact(customer=ann, timezone="Mars/Olympus", actor=support)
    assert "timezone" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.update_contact(customer=ann, language="klingon-xx", actor=support)


def test_a_stored_bad_value_renders_marked_and_stays_until_someone_picks_another(client_for, support, ann):
    Customer.objects.filter(pk=ann.pk).update(language="klingon-xx", timezone='">‹img src=x>')
    client = client_for(support)
    response = client.get(f"/customers/{ann.pk}/edit/")
    body = response.content.decode()
    assert response.status_code == 200
    assert '<option value="klingon-xx" selected>klingon-xx (not a language)</option>' in body
    assert "“klingon-xx” is not a language this list knows: choose one." in body
    assert "&quot;&gt;‹img src=x&gt; (not a time zone)" in body and "<img" not in body

    edit(client, ann, first_name="Anne", language="klingon-xx", timezone='">‹img src=x>')
    ann.refresh_from_db()
    assert (ann.first_name, ann.language, ann.timezone) == ("Anne", "klingon-xx", '">‹img src=x>')
    edit(client, ann, language="", timezone="Europe/Paris")
    ann.refresh_from_db()
    assert (ann.language, ann.timezone) == ("", "Europe/Paris")


@pytest.mark.parametrize("phone", ["+44 20 7946 0958x", "+44 20 7946 0958 x12", "+1 415 555 0199 ext. 5"])
def test_a_phone_with_an_extension_is_refused(client_for, support, ann, phone):
    response = edit(client_for(support), ann, phone=phone, confirm_country_change="on")
    assert "A phone with an extension cannot be saved" in " ".join(response.context["form"].errors["phone"])
    ann.refresh_from_db()
    assert ann.phone == "+14155550101"


def test_a_new_phone_of_another_country_asks_before_saving(client_for, support, ann):
    client = client_for(support)
    warned = edit(client, ann, phone="+44 20 7946 0958")
    body = warned.content.decode()
    assert "This changes the customer&#x27;s country from US to GB." in body
    assert 'name="confirm_country_change"' in body
    ann.refresh_from_db()
    assert ann.phone == "+14155550101"

    saved = edit(client, ann, phone="+44 20 7946 0958", confirm_country_change="on")
    assert saved.status_code == 302
    ann.refresh_from_db()
    assert ann.phone == "+442079460958"
    change = ann.activities.get(kind=Activity.Kind.CONTACT_UPDATED).data["changes"]
    assert change == {"phone": ["+14155550101", "+442079460958"]}


def test_a_new_phone_of_the_same_country_saves_without_asking(client_for, support, ann):
    assert edit(client_for(support), ann, phone="(415) 555-0199").status_code == 302
    ann.refresh_from_db()
    assert ann.phone == "+14155550199"


def test_the_country_confirmation_is_no_contact_field(ann):
    form = ContactForm({**CONTACT, "first_name": "Anne", "confirm_country_change": "on"}, customer=ann)
    assert form.is_valid() and form.changes() == {"first_name": "Anne"}
