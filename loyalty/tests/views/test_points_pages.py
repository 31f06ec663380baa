"""The points rule on /loyalty/, the profile's points panel and its "Adjust points" form, the ledger page."""

from decimal import Decimal

import pytest

from customers.models import AuditEntry
from loyalty import services
from loyalty.models import PointsEntry, PointsRule
from loyalty.queries import LEDGER_PER_PAGE
from loyalty.tests.factories import order


@pytest.fixture
def ann(business):
    return order(business, "+14155550101", "80.00")


def test_owners_see_and_save_the_points_rule_beside_the_tiers_with_an_audit(client_for, owner, business):
    client = client_for(owner)
    page = client.get("/loyalty/").content.decode()
    assert 'id="points-rule"' in page and 'name="points_per_unit" value="1"' in page

    response = client.post(
        "/loyalty/points/rule/", {"points_per_unit": "2.5", "expiry_months": "12"}, follow=True
    )

    assert "Points rule saved" in response.content.decode()
    rule = PointsRule.objects.get(business=business)
    assert (rule.points_per_unit, rule.expiry_months, rule.updated_by) == (Decimal("2.50"), 12, owner)
    assert AuditEntry.objects.filter(business=business, action="points.rule_changed", actor=owner).exists()
    assert 'name="expiry_months" value="12"' in client.get("/loyalty/").content.decode()


def test_a_bad_rule_is_refused_with_the_reason_and_only_owners_may_change_it(
    client_for, owner, support, business
):
    response = client_for(owner).post("/loyalty/points/rule/", {"points_per_unit": "-1"}, follow=True)
    assert "Points rule not saved" in response.content.decode()
    assert client_for(support).post("/loyalty/points/rule/", {"points_per_unit": "5"}).status_code == 403
    assert not PointsRule.objects.filter(points_per_unit=5).exists()


def test_the_profile_shows_the_balance_the_last_ten_entries_and_a_link_to_the_ledger(
    client_for, support, ann
):
    for number in range(12):
        services.change_points(customer=ann, kind="adjust", points=1, reason=f"Gift {number}", actor=support)

    response = client_for(support).get(f"/customers/{ann.pk}/")

    body = response.content.decode()
    assert 'data-testid="points-balance">92<' in body
    assert "Gift 11" in body and "Gift 2<" in body and "Gift 1<" not in body
    assert f'href="/loyalty/customers/{ann.pk}/points/"' in body
    assert "Adjust points" in body


def test_support_adjusts_points_from_the_profile(client_for, support, ann):
    client = client_for(support)
    response = client.post(
        f"/loyalty/customers/{ann.pk}/points/adjust/", {"points": "-30", "reason": "Typo"}, follow=True
    )

    assert "Points adjusted by -30: the balance is 50." in response.content.decode()
    entry = PointsEntry.objects.get(kind="adjust")
    assert (entry.points, entry.reason, entry.actor) == (-30, "Typo", support)

    response = client.post(
        f"/loyalty/customers/{ann.pk}/points/adjust/", {"points": "-51", "reason": "x"}, follow=True
    )
    assert "The balance is 50 points: cannot take 51." in response.content.decode()
    response = client.post(
        f"/loyalty/customers/{ann.pk}/points/adjust/", {"points": "5", "reason": ""}, follow=True
    )
    assert "Points not adjusted" in response.content.decode()
    ann.refresh_from_db()
    assert ann.points_balance == 50


def test_compliance_sees_the_points_but_may_not_adjust_them(client_for, compliance, ann):
    client = client_for(compliance)
    assert "Adjust points" not in client.get(f"/customers/{ann.pk}/").content.decode()
    assert (
        client.post(f"/loyalty/customers/{ann.pk}/points/adjust/", {"points": "5", "reason": "x"}).status_code
        == 403
    )
    assert client.get(f"/loyalty/customers/{ann.pk}/points/").status_code == 200


def test_the_ledger_page_pages_newest_first_with_the_balance_after_each_entry(client_for, support, ann):
    for number in range(LEDGER_PER_PAGE + 4):
        services.change_points(customer=ann, kind="adjust", points=2, reason=f"Gift {number}", actor=support)
    client = client_for(support)

    first = client.get(f"/loyalty/customers/{ann.pk}/points/")
    second = client.get(f"/loyalty/customers/{ann.pk}/points/?page=2")

    rows = list(first.context["page_obj"].object_list)
    assert len(rows) == LEDGER_PER_PAGE
    assert (rows[0].reason, rows[0].balance_after) == (
        f"Gift {LEDGER_PER_PAGE + 3}",
        80 + 2 * (LEDGER_PER_PAGE + 4),
    )
    last = list(second.context["page_obj"].object_list)
    assert [(entry.kind, entry.balance_after) for entry in last[-2:]] == [("adjust", 82), ("earn", 80)]
    assert 'data-testid="ledger-balance">138<' in first.content.decode()
