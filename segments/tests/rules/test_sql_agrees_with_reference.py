"""Random rule trees over random small worlds of customers, orders, items, addresses, tags
and lifetime values: the SQL of `members` selects exactly the customers the plain-Python
reference evaluator selects, on whichever database the tests run (PostgreSQL and SQLite).

Values sit on and around the boundaries: orders exactly 30, 90 and 365 days back, amounts
whose averages hit a rule's value, dates at midnight in the business's zone, text in other
cases. Amounts are multiples of 0.25, exact in SQLite's floating point too. Each example
creates its own business, so the businesses of earlier examples are "other businesses"
whose rows must never be selected."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segments.rules import FIELDS, members, reference
from segments.rules.fields import BOOLEAN, OPTIONAL, REQUIRED, TIMEFRAMES
from segments.tests.rules.worlds import AT, DAYS, WORLDS, ZONES, create_world, value_pool


def single_values(field):
    return st.booleans() if field.type == BOOLEAN else st.sampled_from(value_pool(field))


def values(field, operator):
    if operator == "is_set":
        return st.booleans()
    if operator in ("more_than_days_ago", "less_than_days_ago"):
        return st.sampled_from(DAYS)
    if operator == "between":
        return st.lists(single_values(field), min_size=2, max_size=2).map(sorted)
    if operator in ("in", "not_in"):
        return st.lists(single_values(field), min_size=1, max_size=3)
    return single_values(field)


def timeframes(field):
    if field.timeframe == REQUIRED:
        return st.sampled_from(list(TIMEFRAMES))
    if field.timeframe == OPTIONAL:
        return st.sampled_from([None, *TIMEFRAMES])
    return st.none()


def rules_of(field):
    def build(operator, value, timeframe):
        rule = {"field": field.name, "operator": operator, "value": value}
        return {**rule, "timeframe": timeframe} if timeframe else rule

    return st.sampled_from(field.operators).flatmap(
        lambda operator: st.builds(build, st.just(operator), values(field, operator), timeframes(field))
    )


RULES = st.one_of(*(rules_of(field) for field in FIELDS.values()))


def groups(depth):
    children = RULES if depth == 1 else st.one_of(RULES, RULES, groups(depth - 1))
    return st.builds(
        lambda operator, rules, negate: {"operator": operator, "rules": rules, "negate": negate},
        st.sampled_from(["AND", "OR"]),
        st.lists(children, min_size=1, max_size=3),
        st.booleans(),
    )


TREES = groups(4)


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(world=WORLDS, trees=st.lists(TREES, min_size=1, max_size=4), zone=st.sampled_from(ZONES))
def test_the_sql_selects_exactly_the_customers_the_reference_selects(db, world, trees, zone):
    business = create_world(world, zone)
    records = reference.records(business, at=AT)
    for rules in trees:
        selected = set(members(rules, business=business, at=AT).values_list("pk", flat=True))
        expected = {record["id"] for record in records if reference.matches(rules, record, at=AT)}
        assert selected == expected, rules
