"""What segments adds to the API's customers endpoints: the profile's `segments` and the
list's `segment` filter."""

import json

import pytest

from customers import services as customer_services
from customers.models import Customer
from segments import services


@pytest.fixture
def get(client):
    def call(path, key):
        return client.get(path, headers={"Authorization": f"Bearer {key}"})

    return call


@pytest.fixture
def key(business):
    return customer_services.create_api_key(business=business, name="Storefront", actor=None)[1]


@pytest.fixture
def panel(business, owner):
    return services.create_segment(business=business, actor=owner, name="Panel", kind="static")[0]


def customer(business, phone):
    return customer_services.get_or_create_customer(business=business, phone=phone)[0]


def test_the_profile_lists_the_customer_s_live_segments_by_name(get, key, business, owner, panel):
    ann = customer(business, "+14155550101")
    alpha = services.create_segment(business=business, actor=owner, name="Alpha", kind="static")[0]
    gone = services.create_segment(business=business, actor=owner, name="Gone", kind="static")[0]
    for segment in (panel, alpha, gone):
        services.add_to_segment(segment=segment, customers=Customer.objects.filter(pk=ann.pk), actor=owner)
    services.delete_segment(segment=gone, actor=owner)

    segments = get(f"/api/v1/customers/{ann.pk}", key).json()["segments"]

    assert [(row["id"], row["name"]) for row in segments] == [(alpha.pk, "Alpha"), (panel.pk, "Panel")]
    assert all(row["since"] for row in segments)
    assert get(f"/api/v1/customers/{customer(business, '+14155550102').pk}", key).json()["segments"] == []


def test_the_list_filters_the_members_of_a_segment(get, key, business, owner, panel, other_business):
    customer(business, "+14155550101")
    member = customer(business, "+14155550102")
    services.add_to_segment(segment=panel, customers=Customer.objects.filter(pk=member.pk), actor=owner)
    other_key = customer_services.create_api_key(business=other_business, name="Other", actor=None)[1]

    listed = get(f"/api/v1/customers?segment={panel.pk}", key)
    foreign = get(f"/api/v1/customers?segment={panel.pk}", other_key)

    assert [row["id"] for row in listed.json()["results"]] == [member.pk]
    assert foreign.status_code == 400
    assert "segment" in json.loads(foreign.content)["errors"]
