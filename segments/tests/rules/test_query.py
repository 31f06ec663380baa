"""members() and preview(): one query over the business's live customers only, tags,
categories and orders of that business only, and a preview that stops at its timeout."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import requires_postgres
from customers.bulk.writers import recompute_stats
from customers.models import Customer, Dropoff, Order, OrderItem, Tag
from segments.rules import FIELDS, PreviewTooSlow, RuleError, members, preview
from segments.rules import query as rules_query
from segments.tests.rules.test_every_rule_agrees_with_reference import rules_of

NOW = timezone.now()


def customer(business, phone, **fields):
    return Customer.objects.create(business=business, phone=phone, **fields)


def order(customer, external_id, amount="120.00", days=10, **fields):
    placed = Order.objects.create(
        business=customer.business,
        customer=customer,
        external_id=external_id,
        amount=Decimal(amount),
        currency="USD",
        placed_at=NOW - timedelta(days=days),
        source="doordash",
        **fields,
    )
    OrderItem.objects.create(
        business=customer.business, order=placed, name="Boots", category="Shoes", sku="SKU-1", price=1
    )
    recompute_stats([customer.pk])
    return placed


def ids(queryset):
    return set(queryset.values_list("pk", flat=True))


EVERY_FIELD = {
    "operator": "OR",
    "rules": [next(rules_of(field)) for field in FIELDS.values()]
    + [{"operator": "AND", "negate": True, "rules": [next(rules_of(FIELDS["tags"]))]}],
}


def test_members_is_one_query_whatever_the_fields(business, django_assert_num_queries):
    ann = customer(business, "+14155550101")
    order(ann, "A-1")
    with django_assert_num_queries(1):
        assert ann.pk in ids(members(EVERY_FIELD, business=business, at=NOW))


def test_a_rule_never_selects_another_business_s_customers_tags_orders_or_addresses(business, other_business):
    ours = customer(business, "+14155550101")
    theirs = customer(other_business, "+14155550101", tier="GOLD")
    order(theirs, "T-1", amount="500")
    Dropoff.objects.create(
        business=other_business, customer=theirs, street="1 High St", city="Paris", address_key="x"
    )
    their_vip = Tag.objects.create(business=other_business, name="vip")
    theirs.tags.add(their_vip)
    # Rows that point across businesses (which the services never write) are not followed either.
    ours.tags.add(their_vip)
    stray = Order.objects.create(
        business=other_business, customer=ours, external_id="X-1", amount=500, currency="USD", placed_at=NOW
    )
    OrderItem.objects.create(business=other_business, order=stray, name="Boots", category="Shoes", price=1)
    Dropoff.objects.create(
        business=other_business, customer=ours, street="2 High St", city="Paris", address_key="y"
    )
    rules = [
        {"field": "tags", "operator": "contains", "value": "vip"},
        {"field": "tags", "operator": "is_set", "value": True},
        {"field": "total_spent", "operator": "greater_than", "value": 100, "timeframe": "last_30_days"},
        {"field": "order_count", "operator": "greater_than", "value": 0, "timeframe": "last_90_days"},
        {"field": "purchased_category", "operator": "equals", "value": "shoes", "timeframe": "lifetime"},
        {"field": "source", "operator": "equals", "value": "doordash"},
        {"field": "city", "operator": "equals", "value": "paris"},
    ]
    for rule in rules:
        assert ids(members({"operator": "AND", "rules": [rule]}, business=business, at=NOW)) == set(), rule
    for rule in rules[:2] + rules[4:]:
        assert ids(members({"operator": "AND", "rules": [rule]}, business=other_business, at=NOW)) == {
            theirs.pk
        }
    # Everyone of the business, and no one else, for a rule that holds for all.
    everyone = {"operator": "OR", "rules": [{"field": "blacklisted", "operator": "equals", "value": False}]}
    assert ids(members(everyone, business=business, at=NOW)) == {ours.pk}


def test_deleted_and_merged_customers_are_never_members(business):
    live = customer(business, "+14155550101")
    customer(business, "+14155550102", deleted_at=NOW)
    customer(business, "+14155550103", deleted_at=NOW, merged_into=live)
    everyone = {"operator": "AND", "rules": [{"field": "status", "operator": "equals", "value": "active"}]}
    assert ids(members(everyone, business=business, at=NOW)) == {live.pk}


def test_bad_rules_raise_rule_error_from_members_and_preview(business):
    bad = {"operator": "AND", "rules": [{"field": "total_spent", "operator": "equals", "value": "x"}]}
    with pytest.raises(RuleError):
        members(bad, business=business)
    with pytest.raises(RuleError):
        preview(bad, business=business)


def test_preview_counts_the_members_and_samples_the_newest(business, django_assert_num_queries):
    made = [customer(business, f"+1415555{n:04d}", created_at=NOW - timedelta(days=n)) for n in range(25)]
    customer(business, "+14155559999", is_blacklisted=True)
    rules = {"operator": "AND", "rules": [{"field": "blacklisted", "operator": "equals", "value": False}]}
    # The count and the sample in a savepoint, on PostgreSQL each after its timeout (the
    # sample in a savepoint of its own), then the default again.
    with django_assert_num_queries(9 if connection.vendor == "postgresql" else 4):
        result = preview(rules, business=business, at=NOW)
    assert result == {"count": 25, "sample": [c.pk for c in made[:20]]}
    assert preview(rules, business=business, at=NOW, sample=3)["sample"] == [c.pk for c in made[:3]]


@requires_postgres
def test_a_sample_too_slow_to_walk_comes_from_sorting_the_members(business, monkeypatch):
    made = [customer(business, f"+1415555{n:04d}", created_at=NOW - timedelta(days=n)) for n in range(25)]
    monkeypatch.setattr(rules_query, "SAMPLE_WALK_MS", 1)

    def slow_members(rules, *, business, at=None):
        return Customer.objects.filter(business=business).extra(where=["pg_sleep(0.005) IS NOT NULL"])

    monkeypatch.setattr(rules_query, "members", slow_members)
    rules = {"operator": "AND", "rules": [{"field": "blacklisted", "operator": "equals", "value": False}]}
    with CaptureQueriesContext(connection) as queries:
        result = preview(rules, business=business, at=NOW, sample=3)

    assert result == {"count": 25, "sample": [c.pk for c in made[:3]]}
    assert any("OFFSET 0) m ORDER BY" in query["sql"] for query in queries)


@requires_postgres
def test_a_preview_past_its_timeout_stops_and_says_so(business, settings, monkeypatch):
    customer(business, "+14155550101")
    settings.SEGMENT_PREVIEW_TIMEOUT_MS = 50

    def slow_members(rules, *, business, at=None):
        return Customer.objects.filter(business=business).extra(where=["pg_sleep(0.5) IS NOT NULL"])

    monkeypatch.setattr(rules_query, "members", slow_members)
    rules = {"operator": "AND", "rules": [{"field": "blacklisted", "operator": "equals", "value": False}]}
    with pytest.raises(PreviewTooSlow) as raised:
        preview(rules, business=business)
    assert str(raised.value).startswith("This rule takes too long to preview (over 0.05 s).")
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"


@requires_postgres
def test_after_a_preview_the_transaction_has_no_timeout_left(business):
    rules = {"operator": "AND", "rules": [{"field": "blacklisted", "operator": "equals", "value": False}]}
    preview(rules, business=business)
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"


def extremes(field, operator):
    """The most extreme values the grammar accepts for the field and operator."""
    if operator == "is_set" or field.type == "boolean":
        return [True, False]
    if operator in ("more_than_days_ago", "less_than_days_ago"):
        return [0, 36_500]
    if field.type in ("number", "money"):
        lowest, highest = field.bounds or (-(10**12), 10**12)
        singles = [lowest, highest] + ([] if field.whole_numbers else [1e-300, -1e-300, 0.1])
    elif field.type == "date":
        singles = ["1900-01-01", "2100-12-31"]
    elif field.type == "choice":
        singles = [field.choices[0][0], field.choices[-1][0]]
    else:
        singles = ["x" * 200, "%_\\'\"", "Ünïcödé ß"]
    if operator == "between":
        return [[min(singles), max(singles)], [singles[0], singles[0]]]
    if operator in ("in", "not_in"):
        return [singles, singles * 30]
    return singles


def test_the_most_extreme_rules_the_grammar_accepts_run_on_the_database(business):
    ann = customer(business, "+14155550101")
    order(ann, "A-1")
    ran = 0
    for field in FIELDS.values():
        for operator in field.operators:
            timeframe = {"required": "last_30_days", "optional": "last_365_days"}.get(field.timeframe)
            for value in extremes(field, operator):
                rule = {"field": field.name, "operator": operator, "value": value}
                rule = {**rule, "timeframe": timeframe} if timeframe else rule
                list(members({"operator": "AND", "rules": [rule]}, business=business, at=NOW))
                ran += 1
    assert ran > 200
