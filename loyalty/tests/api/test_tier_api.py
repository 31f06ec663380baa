"""The tier endpoints: configuration read and write, recalculation, audits; errors as the orders API."""

import json

import pytest

from customers import services as customer_services
from customers.models import Customer
from loyalty.models import TierConfigAudit, TierRecalculation
from loyalty.tests.factories import order, thresholds


@pytest.fixture
def api_key(business):
    return customer_services.create_api_key(business=business, name="Script", actor=None)[1]


@pytest.fixture
def call(client):
    def send(method, path, payload=None, key=None):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        if method == "get":
            return client.get(f"/api/v1/{path}", headers=headers)
        body = json.dumps(payload) if payload is not None else ""
        return getattr(client, method)(
            f"/api/v1/{path}", body, content_type="application/json", headers=headers
        )

    return send


def test_the_configuration_reads_as_the_contract_with_the_defaults_of_a_new_business(call, api_key):
    response = call("get", "tiers/configuration", key=api_key)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"silver", "gold", "platinum", "grace_days"}
    assert body["silver"] == {"spend": "100.00", "visits": None, "points": None, "period": "lifetime"}
    assert body["grace_days"] == 90


def test_a_put_saves_audits_and_answers_the_configuration_with_the_job_that_recalculates(
    call, api_key, business, django_capture_on_commit_callbacks
):
    ann = order(business, "+14155550101", "30.00")
    new = thresholds(silver={"spend": "25", "period": "yearly"}, gold={"visits": 3})

    with django_capture_on_commit_callbacks(execute=True):
        response = call("put", "tiers/configuration", {**new, "grace_days": 30, "reason": "Easier"}, api_key)

    assert response.status_code == 200
    body = response.json()
    assert body["silver"] == {"spend": "25.00", "visits": None, "points": None, "period": "yearly"}
    assert body["grace_days"] == 30
    job = call("get", f"jobs/{body['job_id']}", key=api_key).json()
    assert (job["kind"], job["status"], job["rows_done"]) == ("tier_recalculation", "done", 1)
    assert Customer.objects.get(pk=ann.pk).tier == "SILVER"
    audits = call("get", "tiers/audits", key=api_key).json()
    assert audits["next"] is None
    [audit] = audits["results"]
    assert (audit["reason"], audit["changed_by"], audit["new"]["grace_days"]) == ("Easier", None, 30)
    assert audit["old"]["silver"]["spend"] == "100.00"
    assert audit["changed_at"].endswith("+00:00")


@pytest.mark.parametrize(
    "payload, field",
    [
        ({**thresholds(silver={"spend": "10"}), "reason": ""}, "reason"),
        ({**thresholds(silver={"spend": "500"}, gold={"spend": "100"}), "reason": "x"}, "gold"),
        ({"silver": "cheap", "reason": "x"}, "silver"),
        ({**thresholds(), "grace_days": -1, "reason": "x"}, "grace_days"),
        ({**thresholds(silver={"period": "weekly", "visits": 1}), "reason": "x"}, "silver"),
    ],
)
def test_a_bad_put_is_a_400_with_errors_by_field_and_saves_nothing(call, api_key, payload, field):
    response = call("put", "tiers/configuration", payload, api_key)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not TierConfigAudit.objects.exists()


def test_a_body_that_is_not_an_object_is_a_400(call, api_key):
    assert call("put", "tiers/configuration", [1, 2], api_key).status_code == 400


def test_a_recalculation_answers_202_with_its_job(call, api_key, business):
    response = call("post", "tiers/recalculate", {}, api_key)

    assert response.status_code == 202
    assert TierRecalculation.objects.get(pk=response.json()["job_id"]).business == business


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "tiers/configuration"),
        ("put", "tiers/configuration"),
        ("post", "tiers/recalculate"),
        ("get", "tiers/audits"),
    ],
)
def test_without_a_key_every_tier_endpoint_is_a_401(call, method, path):
    assert call(method, path, {}).status_code == 401


def test_the_audits_page_with_a_cursor_and_refuse_a_bad_one(call, api_key, business, owner, monkeypatch):
    from loyalty import services
    from loyalty.queries import tiers as tier_queries

    monkeypatch.setattr(tier_queries, "AUDITS_PER_PAGE", 2)
    for spend in ("10", "20", "30"):
        services.configure_tiers(
            business=business,
            thresholds=thresholds(silver={"spend": spend}),
            grace_days=90,
            reason=spend,
            actor=owner,
        )

    first = call("get", "tiers/audits", key=api_key).json()
    second = call("get", f"tiers/audits?cursor={first['next']}", key=api_key).json()

    assert [a["reason"] for a in first["results"]] == ["30", "20"]
    assert [a["reason"] for a in second["results"]] == ["10"] and second["next"] is None
    assert first["results"][0]["changed_by"] == owner.username
    assert call("get", "tiers/audits?cursor=x", key=api_key).status_code == 400
    assert call("get", "tiers/audits?cursor=²", key=api_key).status_code == 400


def test_another_business_sees_only_its_own_configuration_and_audits(call, api_key, other_business, owner):
    from loyalty import services

    services.configure_tiers(
        business=other_business,
        thresholds=thresholds(silver={"spend": "1"}),
        grace_days=5,
        reason="Theirs",
        actor=owner,
    )

    assert call("get", "tiers/configuration", key=api_key).json()["grace_days"] == 90
    assert call("get", "tiers/audits", key=api_key).json()["results"] == []


def test_a_customers_loyalty_reads_as_the_contract_and_another_business_gets_404(
    call, api_key, business, other_business
):
    customer = Customer.objects.create(business=business, phone="+14155550101", points_balance=40)
    stranger = Customer.objects.create(business=other_business, phone="+14155550102")

    response = call("get", f"customers/{customer.pk}/loyalty", key=api_key)

    assert response.status_code == 200
    body = response.json()
    assert list(body) == [
        "tier", "tier_source", "override_expires_at", "downgrade_on", "next_tier", "points_balance", "clv",
    ]  # fmt: skip
    assert (body["tier"], body["tier_source"], body["points_balance"], body["clv"]) == (
        "BRONZE",
        "computed",
        40,
        None,
    )
    assert body["next_tier"]["tier"] == "SILVER"
    assert call("get", f"customers/{stranger.pk}/loyalty", key=api_key).status_code == 404
    assert call("get", f"customers/{customer.pk}/loyalty").status_code == 401
