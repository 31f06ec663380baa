"""Reads of the points ledger: a business's rule, a customer's latest entries and their
ledger page by page, and the points earned in a period (for the tiers' points thresholds)."""

from django.core.paginator import Paginator
from django.db.models import F, Sum, Window

from loyalty.models import PointsEntry, PointsRule

RECENT_ENTRIES = 10
LEDGER_PER_PAGE = 25


def points_rule_of(business):
    """The stored rule, or the defaults that the first write will store."""
    return PointsRule.objects.filter(business=business).first() or PointsRule(business=business)


def recent_entries(customer, limit=RECENT_ENTRIES):
    """The customer's latest entries, newest first, with their order and actor (one query)."""
    return list(
        PointsEntry.objects.filter(customer=customer)
        .select_related("order", "actor")
        .order_by("-created_at", "-id")[:limit]
    )


def ledger_page(customer, page_number):
    """One page of the customer's ledger, newest first, each entry with `balance_after`: the
    balance once it was written (a running sum in the database, whatever the page)."""
    entries = (
        PointsEntry.objects.filter(customer=customer)
        .select_related("order", "actor")
        .annotate(
            balance_after=Window(Sum("points"), order_by=[F("created_at").asc(), F("id").asc()]),
        )
        .order_by("-created_at", "-id")
    )
    return Paginator(entries, LEDGER_PER_PAGE).get_page(page_number)


def points_earned_sql(*, business_id, since, at, customer_ids=None):
    """(sql, params) of each customer's points earned in [since, at): what orders earned in
    that window less what was reversed of those same earns before `at`. Rows: (customer_id,
    points); customers who earned nothing there have no row."""
    sql = (
        "SELECT earn.customer_id, SUM(earn.points + COALESCE(reverse.points, 0)) AS points "
        "FROM loyalty_pointsentry earn "
        "LEFT JOIN loyalty_pointsentry reverse ON reverse.order_id = earn.order_id "
        "AND reverse.kind = 'reverse' AND reverse.created_at < %s "
        "WHERE earn.business_id = %s AND earn.kind = 'earn' "
        "AND earn.created_at >= %s AND earn.created_at < %s"
    )
    params = [at, business_id, since, at]
    if customer_ids is not None:
        sql += f" AND earn.customer_id IN ({', '.join(['%s'] * len(customer_ids))})"
        params += list(customer_ids)
    return sql + " GROUP BY earn.customer_id", params
