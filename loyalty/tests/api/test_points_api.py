"""POST /api/v1/customers/{id}/points: adjust or redeem, with the contract's answers and errors."""

import json

import pytest

from customers import services as customer_services
from loyalty.models import PointsEntry
from loyalty.tests.factories import order


@pytest.fixture
def api_key(business):
    return customer_services.create_api_key(business=business, name="Script", actor=None)[1]


@pytest.fixture
def ann(business):
    return order(business, "+14155550101", "80.00")


def post(client, customer_id, payload, key):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return client.post(
        f"/api/v1/customers/{customer_id}/points", body, content_type="application/json", headers=headers
    )


def test_a_redemption_answers_201_with_the_entry_and_the_new_balance(client, api_key, ann):
    response = post(client, ann.pk, {"kind": "redeem", "points": 50, "reason": "Free pizza"}, api_key)

    assert response.status_code == 201
    entry = PointsEntry.objects.get(kind="redeem")
    assert response.json() == {"entry_id": entry.pk, "points_balance": 30}
    assert (entry.points, entry.reason, entry.actor) == (-50, "Free pizza", None)
    ann.refresh_from_db()
    assert ann.points_balance == 30


def test_an_adjustment_may_add_or_take_and_the_loyalty_endpoint_shows_the_balance(client, api_key, ann):
    assert (
        post(client, ann.pk, {"kind": "adjust", "points": -30, "reason": "Typo"}, api_key).json()[
            "points_balance"
        ]
        == 50
    )
    assert post(client, ann.pk, {"kind": "adjust", "points": 5, "reason": "Gift"}, api_key).status_code == 201

    loyalty = client.get(
        f"/api/v1/customers/{ann.pk}/loyalty", headers={"Authorization": f"Bearer {api_key}"}
    )
    assert loyalty.json()["points_balance"] == 55


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        (
            {"kind": "redeem", "points": 81, "reason": "Too much"},
            {"points": ["The balance is 80 points: cannot redeem 81."]},
        ),
        (
            {"kind": "adjust", "points": -81, "reason": "x"},
            {"points": ["The balance is 80 points: cannot take 81."]},
        ),
        ({"kind": "earn", "points": 5, "reason": "x"}, {"kind": ["Choose one of: adjust, redeem."]}),
        ({"kind": "adjust", "points": "5", "reason": "x"}, {"points": ["Enter a whole number."]}),
        ({"kind": "adjust", "points": 5}, {"reason": ["Say why the points change."]}),
        (
            {"points": 0, "reason": ""},
            {
                "kind": ["kind must be one of adjust, redeem."],
                "points": ["Give a number of points other than 0, at most 10,000,000."],
                "reason": ["Say why the points change."],
            },
        ),
        ({"points": None, "reason": 5}, {"points": ["Enter a whole number."], "reason": ["Enter a string."]}),
        ("[1, 2]", {"body": ["Send one JSON object."]}),
        ("{not json", {"body": ["The request body is not valid JSON."]}),
    ],
)
def test_bad_input_and_a_redemption_past_the_balance_are_400_with_the_errors(
    client, api_key, ann, payload, errors
):
    response = post(client, ann.pk, payload, api_key)

    assert response.status_code == 400
    assert response.json() == {"errors": errors}
    ann.refresh_from_db()
    assert ann.points_balance == 80 and PointsEntry.objects.count() == 1


def test_no_key_is_401_and_another_business_customer_or_a_missing_one_is_404(client, api_key, other_business):
    stranger = order(other_business, "+14155550188", "80.00")
    payload = {"kind": "redeem", "points": 5, "reason": "x"}

    assert post(client, stranger.pk, payload, None).status_code == 401
    assert post(client, stranger.pk, payload, "not-a-key").status_code == 401
    response = post(client, stranger.pk, payload, api_key)
    assert response.status_code == 404
    assert response.json() == {"errors": {"customer": [f"No customer {stranger.pk} in this business."]}}
    assert post(client, 999999, payload, api_key).status_code == 404
    stranger.refresh_from_db()
    assert stranger.points_balance == 80


def test_only_post_is_allowed(client, api_key, ann):
    response = client.get(
        f"/api/v1/customers/{ann.pk}/points", headers={"Authorization": f"Bearer {api_key}"}
    )
    assert response.status_code == 405
