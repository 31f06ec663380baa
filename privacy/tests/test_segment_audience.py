"""A segment's audience, from its page as CSV and from the API: its members who may be
contacted on a channel for a purpose, and when; each download is in the access log."""

import pytest

from customers import services as customer_services
from customers.models import Customer
from customers.tests.api.declared import assert_declared
from privacy.models import AccessLog
from privacy.tests.factories import customer, grant
from segments import services as segment_services
from segments.tests.factories import static

pytestmark = pytest.mark.django_db


@pytest.fixture
def panel(business, owner, support):
    ann = customer(business, "+14155550101", email="ann@example.com")
    bob = customer(business, "+14155550102", email="bob@example.com")
    customer(business, "+14155550103", email="cyd@example.com")  # consents, not a member
    grant(ann, "sms_marketing", actor=support)
    grant(Customer.objects.get(phone="+14155550103"), "sms_marketing", actor=support)
    segment = static(business, actor=owner)
    segment_services.add_to_segment(
        segment=segment, customers=Customer.objects.filter(pk__in=[ann.pk, bob.pk]), actor=owner
    )
    return {"segment": segment, "ann": ann, "bob": bob}


def test_the_segment_page_downloads_its_members_who_may_be_texted(client_for, owner, panel):
    segment = panel["segment"]

    response = client_for(owner).get(
        f"/privacy/segments/{segment.pk}/audience.csv?channel=sms&purpose=marketing"
    )

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "id,contact,send_after"
    assert len(lines) == 2 and lines[1].startswith(f"{panel['ann'].pk},")
    assert "+14155550101" in lines[1]
    assert (
        AccessLog.objects.filter(what="list_exported", query__contains=f"segment {segment.pk}").count() == 1
    )


def test_a_bad_channel_on_the_page_is_a_message_not_a_file(client_for, owner, panel):
    segment = panel["segment"]

    response = client_for(owner).get(
        f"/privacy/segments/{segment.pk}/audience.csv?channel=pigeon&purpose=marketing", follow=True
    )

    assert "Enter one of: email, sms, push." in response.content.decode()
    assert not AccessLog.objects.filter(what="list_exported").exists()


def test_support_cannot_download_an_audience(client_for, support, panel):
    url = f"/privacy/segments/{panel['segment'].pk}/audience.csv?channel=sms&purpose=marketing"
    assert client_for(support).get(url).status_code == 403


def test_the_api_pages_the_audience_and_logs_it_as_the_keys(api, api_key, panel, other_business):
    segment = panel["segment"]
    url = f"/api/v1/segments/{segment.pk}/audience?channel=sms&purpose=marketing"

    response = api("get", url, api_key)

    assert_declared(response)
    body = response.json()
    assert [row["id"] for row in body["results"]] == [panel["ann"].pk]
    assert body["results"][0]["contact"] == "+14155550101" and body["next"] is None
    entry = AccessLog.objects.get(what="list_exported")
    assert entry.api_key is not None and f",{panel['ann'].pk}," in entry.customer_ids


def test_the_api_refuses_a_bad_purpose_and_another_businesss_segment(api, api_key, panel, other_business):
    segment = panel["segment"]
    bad = api("get", f"/api/v1/segments/{segment.pk}/audience?channel=sms&purpose=spam", api_key)
    assert bad.status_code == 400 and "purpose" in bad.json()["errors"]
    _, other_key = customer_services.create_api_key(business=other_business, name="Other", actor=None)
    assert (
        api(
            "get", f"/api/v1/segments/{segment.pk}/audience?channel=sms&purpose=marketing", other_key
        ).status_code
        == 404
    )
    assert not AccessLog.objects.filter(what="list_exported").exists()


@pytest.mark.parametrize(("value", "expected"), [(True, {"ann"}), (False, {"bob", "cyd"})])
def test_a_segment_rule_on_the_sms_opt_in_counts_customers_without_a_record_as_not_opted_in(
    business, panel, value, expected
):
    from segments import rules

    Customer.objects.filter(phone="+14155550103").update(first_name="cyd")
    grant_rules = {
        "operator": "AND",
        "rules": [{"field": "sms_opt_in", "operator": "equals", "value": value}],
    }
    names = {"ann": panel["ann"].pk, "bob": panel["bob"].pk, "cyd": Customer.objects.get(first_name="cyd").pk}
    # cyd consented in the fixture; withdraw it so that only ann holds the consent.
    from privacy.tests.factories import withdraw

    withdraw(Customer.objects.get(pk=names["cyd"]), "sms_marketing")

    matched = set(
        rules.members(rules.clean_rules(grant_rules), business=business).values_list("pk", flat=True)
    )

    assert matched == {names[name] for name in expected}
