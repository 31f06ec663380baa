from datetime import date
from decimal import Decimal

from customers.models import Customer, Order
from loyalty import services
from loyalty.tests.services.test_clv import at, store_orders


def fitted_business(business):
    day = date(2026, 6, 1)
    customers = store_orders(
        business,
        {
            1: [
                (at(day), Decimal("30.00"), Order.Status.COMPLETED),
                (at(date(2026, 6, 11)), Decimal("30.00"), Order.Status.COMPLETED),
            ],
            2: [(at(day), Decimal("5.00"), Order.Status.COMPLETED)],
        },
    )
    Customer.objects.filter(pk=customers[1].pk).update(tier=Customer.Tier.GOLD)
    return services.fit_lifetime_values(business=business, actor=None, as_of=date(2026, 6, 30))


def test_an_owner_sees_the_model_and_the_predicted_value_per_tier(
    business, owner, client_for, django_assert_num_queries
):
    fit = fitted_business(business)
    client = client_for(owner)

    # The figures per tier are the fit's: no aggregate of the values.
    with django_assert_num_queries(7):
        response = client.get("/loyalty/clv/")

    assert response.status_code == 200
    tiers = {tier["tier"]: tier for tier in response.context["tiers"]}
    assert list(tiers) == ["BRONZE", "GOLD"]
    assert tiers["GOLD"]["customers"] == tiers["BRONZE"]["customers"] == 1
    assert [band["label"] for band in tiers["GOLD"]["bands"]][:2] == ["0–10", "10–25"]
    page = response.content.decode()
    assert fit.note in page
    assert "Predicted value of Gold customers" in page
    assert "Orders up to" in page


def test_the_page_says_when_no_fit_was_made_yet(business, owner, client_for):
    response = client_for(owner).get("/loyalty/clv/")

    assert "has not been fitted yet" in response.content.decode()


def test_support_and_compliance_may_not_see_the_page(business, support, compliance, client_for):
    for user in (support, compliance):
        assert client_for(user).get("/loyalty/clv/").status_code == 403
