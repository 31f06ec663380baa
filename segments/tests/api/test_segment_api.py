"""The segment endpoints, exactly as issue 11's contracts: shapes, errors, tenancy; every
answer as the OpenAPI document declares it."""

import json

import pytest

from customers import services as customer_services
from customers.models import Job
from customers.tests.api.declared import assert_declared
from segments.models import Segment
from segments.tests.factories import SPENT_OVER_100_IN_90_DAYS, dynamic, member_ids, order, static


@pytest.fixture
def api_key(business):
    return customer_services.create_api_key(business=business, name="Script", actor=None)[1]


@pytest.fixture
def other_key(other_business):
    return customer_services.create_api_key(business=other_business, name="Other", actor=None)[1]


@pytest.fixture
def call(client, api_key):
    def send(method, path, payload=None, key=api_key, raw=None):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        if method == "get":
            response = client.get(f"/api/v1/{path}", headers=headers)
        else:
            body = raw if raw is not None else (json.dumps(payload) if payload is not None else "")
            response = getattr(client, method)(
                f"/api/v1/{path}", body, content_type="application/json", headers=headers
            )
        assert_declared(response)
        return response

    return send


def test_creating_a_dynamic_segment_answers_201_with_its_members_computed_by_the_job(
    call, business, django_capture_on_commit_callbacks
):
    rich = order(business, amount="150.00", days_ago=3)
    payload = {
        "name": "Big spenders",
        "description": "Over 100",
        "kind": "dynamic",
        "rules": SPENT_OVER_100_IN_90_DAYS,
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = call("post", "segments", payload)

    assert response.status_code == 201
    body = response.json()
    assert {"id", "name", "kind", "rules", "member_count", "last_recalculated_at", "job_id"} <= set(body)
    assert (body["name"], body["kind"]) == ("Big spenders", "dynamic")
    job = call("get", f"jobs/{body['job_id']}").json()
    assert job["status"] == "done"
    assert member_ids(Segment.objects.get(pk=body["id"])) == {rich.pk}
    assert call("get", f"segments/{body['id']}").json()["member_count"] == 1


@pytest.mark.parametrize(
    "payload, field",
    [
        (
            {
                "name": "X",
                "kind": "dynamic",
                "rules": {
                    "operator": "AND",
                    "rules": [
                        {
                            "field": "total_spent",
                            "operator": "greater_than",
                            "value": "lots",
                            "timeframe": "lifetime",
                        }
                    ],
                },
            },
            "rules",
        ),
        (
            {
                "name": "X",
                "kind": "dynamic",
                "rules": {"operator": "AND", "rules": [{"field": "nope", "operator": "equals", "value": 1}]},
            },
            "rules",
        ),
        ({"name": "X", "kind": "dynamic", "rules": "not a tree"}, "rules"),
        ({"name": "", "kind": "static"}, "name"),
        ({"name": "X", "kind": "sometimes"}, "kind"),
    ],
)
def test_a_bad_segment_is_a_400_pointing_at_what_is_wrong(call, payload, field):
    response = call("post", "segments", payload)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == [field]
    if field == "rules":
        assert errors["rules"][0].startswith("rules")


def test_the_rule_error_names_the_rule_and_its_part(call):
    rules = {
        "operator": "AND",
        "rules": [
            {"field": "tier", "operator": "in", "value": ["GOLD"]},
            {"field": "total_spent", "operator": "greater_than", "value": "x", "timeframe": "lifetime"},
        ],
    }
    response = call("post", "segments", {"name": "X", "kind": "dynamic", "rules": rules})
    assert response.json()["errors"]["rules"][0].startswith("rules[1].value:")


def test_a_duplicate_name_and_bad_json_are_400s(call, business):
    static(business, name="Panel")
    assert call("post", "segments", {"name": "panel", "kind": "static"}).status_code == 400
    response = call("post", "segments", raw="{not json")
    assert (response.status_code, list(response.json()["errors"])) == (400, ["body"])


def test_the_list_holds_the_presets_and_the_businesss_own_segments_only(call, business, other_business):
    static(business, name="Panel")
    static(other_business, name="Not ours")

    body = call("get", "segments").json()

    names = {row["name"] for row in body["results"]}
    assert "Panel" in names and "Churned" in names and "Not ours" not in names
    assert body["next"] is None


def test_put_changes_the_rules_and_starts_a_recalculation(call, business, django_capture_on_commit_callbacks):
    segment = dynamic(business)
    gold = order(business)
    customer_services.tag_customer(customer=gold, name="vip", actor=None)
    vip = {"operator": "AND", "rules": [{"field": "tags", "operator": "contains", "value": "vip"}]}

    with django_capture_on_commit_callbacks(execute=True):
        response = call("put", f"segments/{segment.pk}", {"rules": vip, "name": "VIPs"})

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "VIPs" and body["job_id"]
    assert member_ids(segment) == {gold.pk}


def test_delete_is_a_soft_delete_and_the_segment_then_answers_404(call, business):
    segment = static(business)
    assert call("delete", f"segments/{segment.pk}").status_code == 204
    assert call("get", f"segments/{segment.pk}").status_code == 404
    assert Segment.objects.get(pk=segment.pk).deleted_at is not None


def test_recalculate_answers_202_with_a_job(call, business):
    segment = dynamic(business)
    response = call("post", f"segments/{segment.pk}/recalculate")
    assert response.status_code == 202
    assert Job.objects.filter(pk=response.json()["job_id"], business=business).exists()
    assert call("post", f"segments/{static(business).pk}/recalculate").status_code == 400


def test_members_are_cursor_paged(call, business, settings, monkeypatch):
    from segments import queries

    monkeypatch.setattr(queries, "MEMBERS_PER_PAGE", 2)
    customers = [order(business, amount="150.00", days_ago=1) for _ in range(3)]
    segment = dynamic(business)

    first = call("get", f"segments/{segment.pk}/members").json()
    second = call("get", f"segments/{segment.pk}/members?cursor={first['next']}").json()

    ids = [row["id"] for row in first["results"] + second["results"]]
    assert ids == sorted(customer.pk for customer in customers)
    assert set(first["results"][0]) == {"id", "phone", "first_name", "last_name", "email", "since"}
    assert second["next"] is None
    for cursor in ["abc", "²", "9" * 19]:
        assert call("get", f"segments/{segment.pk}/members?cursor={cursor}").status_code == 400


def test_static_members_are_added_and_removed_by_ids(call, business):
    ann, bob = order(business), order(business)
    segment = static(business)

    added = call("post", f"segments/{segment.pk}/members", {"customer_ids": [ann.pk, bob.pk, 999999]})
    removed = call("delete", f"segments/{segment.pk}/members", {"customer_ids": [bob.pk]})

    assert added.status_code == 200
    assert added.json() == {"changed": 2, "skipped": {"no such customer": 1}, "member_count": 2}
    assert removed.json() == {"changed": 1, "skipped": {}, "member_count": 1}
    assert member_ids(segment) == {ann.pk}
    for ids, errors in [
        (["1"], {"customer_ids.0": ["Enter a whole number."]}),
        ([], {"customer_ids": ["Send at least 1 item."]}),
        (list(range(1, 1002)), {"customer_ids": ["Send at most 1,000 items at a time."]}),
    ]:
        refused = call("post", f"segments/{segment.pk}/members", {"customer_ids": ids})
        assert (refused.status_code, refused.json()["errors"]) == (400, errors)
    assert (
        call("post", f"segments/{dynamic(business).pk}/members", {"customer_ids": [ann.pk]}).status_code
        == 400
    )


def test_the_preview_counts_and_samples_without_saving(call, business):
    rich = order(business, amount="150.00", days_ago=1)
    order(business)

    response = call("post", "segments/preview", {"rules": SPENT_OVER_100_IN_90_DAYS})

    assert response.json() == {"count": 1, "sample": [rich.pk]}
    assert not Segment.objects.exists()
    bad = call("post", "segments/preview", {"rules": {"operator": "XOR", "rules": []}})
    assert bad.status_code == 400 and "rules" in bad.json()["errors"]


def test_a_customers_segments_list_with_since(call, business):
    rich = order(business, amount="150.00", days_ago=1)
    segment = dynamic(business)

    body = call("get", f"customers/{rich.pk}/segments").json()

    assert [(row["id"], row["name"]) for row in body["results"]] == [(segment.pk, "Big spenders")]
    assert body["results"][0]["since"]


def test_another_businesss_ids_answer_404_and_no_key_401(call, business, other_key):
    rich = order(business, amount="150.00", days_ago=1)
    segment = dynamic(business)
    for method, path in [
        ("get", f"segments/{segment.pk}"),
        ("put", f"segments/{segment.pk}"),
        ("delete", f"segments/{segment.pk}"),
        ("post", f"segments/{segment.pk}/recalculate"),
        ("get", f"segments/{segment.pk}/members"),
        ("post", f"segments/{segment.pk}/members"),
        ("get", f"customers/{rich.pk}/segments"),
    ]:
        assert call(method, path, {"customer_ids": [rich.pk]}, key=other_key).status_code == 404, path
    assert call("get", "segments", key=None).status_code == 401
    assert (
        call("post", "segments/preview", {"rules": SPENT_OVER_100_IN_90_DAYS}, key=other_key).json()["count"]
        == 0
    )
    assert Segment.objects.get(pk=segment.pk).deleted_at is None
