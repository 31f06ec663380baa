"""The admin of the points ledger (read-only) and of the points rule (through the service)."""

from decimal import Decimal

from customers.models import AuditEntry
from loyalty import services
from loyalty.models import PointsEntry, PointsRule
from loyalty.tests.factories import order


def test_the_ledger_is_read_only_in_the_admin(client_for, owner, support, business):
    ann = order(business, "+14155550101", "12.00")
    entry = PointsEntry.objects.get(customer=ann)
    for user in (owner, support):
        client = client_for(user)
        assert client.get("/admin/loyalty/pointsentry/").status_code == 200
        assert client.get(f"/admin/loyalty/pointsentry/{entry.pk}/change/").status_code == 200
        client.post(f"/admin/loyalty/pointsentry/{entry.pk}/change/", {"points": "999"})
        assert client.get("/admin/loyalty/pointsentry/add/").status_code == 403
        assert (
            client.post(f"/admin/loyalty/pointsentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
        )
    entry.refresh_from_db()
    assert entry.points == 12


def test_owners_change_the_rule_in_the_admin_through_the_service(client_for, owner, business):
    rule = services.points_rule(business)
    client = client_for(owner)

    response = client.post(
        f"/admin/loyalty/pointsrule/{rule.pk}/change/", {"points_per_unit": "3", "expiry_months": "6"}
    )

    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.points_per_unit, rule.expiry_months, rule.updated_by) == (Decimal("3.00"), 6, owner)
    assert AuditEntry.objects.filter(business=business, action="points.rule_changed").count() == 1
    assert client.get("/admin/loyalty/pointsrule/add/").status_code == 403
    assert PointsRule.objects.count() == 1
