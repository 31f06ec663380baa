"""Every field with every one of its operators, every timeframe it takes and each value of its
pool (pairs of them for between and in), on one fixed world: the SQL selects exactly the
customers the reference evaluator selects. Where the random trees may miss an edge, this
meets each one."""

import pytest

from customers.models import Order
from segments.rules import FIELDS, members, reference
from segments.rules.fields import BOOLEAN, NONE, OPTIONAL, TIMEFRAMES
from segments.tests.rules.worlds import AT, DAYS, create_world, fixed_world, value_pool


def values_of(field, operator):
    if operator == "is_set":
        return [True, False]
    if operator in ("more_than_days_ago", "less_than_days_ago"):
        return DAYS
    pool = value_pool(field)
    if operator == "between":
        ordered = sorted(pool)
        return [[low, high] for i, low in enumerate(ordered) for high in ordered[i : i + 3]]
    if operator in ("in", "not_in"):
        return [[value] for value in pool] + [list(pair) for pair in zip(pool, pool[1:], strict=False)]
    return pool


def timeframes_of(field):
    if field.timeframe == NONE:
        return [None]
    return [*TIMEFRAMES, None] if field.timeframe == OPTIONAL else list(TIMEFRAMES)


def rules_of(field):
    for operator in field.operators:
        for timeframe in timeframes_of(field):
            for value in values_of(field, operator):
                rule = {"field": field.name, "operator": operator, "value": value}
                yield {**rule, "timeframe": timeframe} if timeframe else rule


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        business = create_world(fixed_world(), "America/New_York")
        yield business, reference.records(business, at=AT)
        Order.objects.filter(business=business).delete()  # orders protect their customers
        business.delete()


@pytest.mark.parametrize("name", list(FIELDS))
def test_each_rule_on_the_field_selects_what_the_reference_selects(db, world, name):
    business, records = world
    tried = 0
    for rule in rules_of(FIELDS[name]):
        rules = {"operator": "AND", "rules": [rule]}
        selected = set(members(rules, business=business, at=AT).values_list("pk", flat=True))
        expected = {record["id"] for record in records if reference.matches(rules, record, at=AT)}
        assert selected == expected, rule
        tried += 1
    assert tried >= len(FIELDS[name].operators) * (1 if FIELDS[name].type == BOOLEAN else 2)


def test_the_fixed_world_tells_the_rules_apart(world):
    """Most rules select some customers and leave others: the world is not trivially empty."""
    business, records = world
    assert len(records) > 40
    split = 0
    for field in FIELDS.values():
        for rule in rules_of(field):
            selected = sum(reference.matches({"operator": "AND", "rules": [rule]}, r, at=AT) for r in records)
            split += 0 < selected < len(records)
    assert split > 500
