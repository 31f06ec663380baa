# ruff: noqa: E501  (the tables of rules and messages read best one case a line)
"""The rule grammar: every field with each of its operators and timeframes is accepted in its
normalized shape; every kind of bad rule is refused with a message that points at it; and no
JSON whatever makes clean_rules raise anything but RuleError."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segments.rules import FIELDS, RuleError, clean_rules
from segments.rules.fields import NONE, OPTIONAL, REQUIRED
from segments.tests.rules.test_every_rule_agrees_with_reference import rules_of


def group(*rules, operator="AND", **extra):
    return {"operator": operator, "rules": list(rules), **extra}


def errors_of(data):
    with pytest.raises(RuleError) as raised:
        clean_rules(data)
    return raised.value.messages


@pytest.mark.parametrize("name", list(FIELDS))
def test_every_operator_timeframe_and_value_of_a_field_is_accepted_as_given(name):
    accepted = 0
    for rule in rules_of(FIELDS[name]):
        cleaned = clean_rules(group(rule))["rules"][0]
        expected = dict(rule)
        if FIELDS[name].timeframe == OPTIONAL:
            expected.setdefault("timeframe", "lifetime")
        if FIELDS[name].type == "choice" and rule["operator"] != "is_set":
            canonical = {str(key).upper(): key for key, _ in FIELDS[name].choices}
            value = rule["value"]
            expected["value"] = (
                [canonical[item.upper()] for item in value]
                if isinstance(value, list)
                else canonical[value.upper()]
            )
        assert cleaned == expected
        accepted += 1
    assert accepted >= len(FIELDS[name].operators)


def test_the_fields_are_the_issues_list_and_privacy_adds_the_opt_ins_itself():
    assert set(FIELDS) >= {
        "total_spent", "order_count", "avg_order_value", "loyalty_points", "tier", "last_order_at",
        "days_since_last_order", "first_order_at", "created_at", "tags", "blacklisted", "status", "city",
        "country", "language", "purchased_category", "purchased_sku", "source", "predicted_clv",
        "probability_alive",
    }  # fmt: skip
    # The privacy app registers its own, from its consent records.
    assert FIELDS["email_opt_in"].load is not None and FIELDS["sms_opt_in"].load is not None
    required = {name for name, field in FIELDS.items() if field.timeframe == REQUIRED}
    assert required == {
        "total_spent",
        "order_count",
        "avg_order_value",
        "purchased_category",
        "purchased_sku",
    }
    assert FIELDS["source"].timeframe == OPTIONAL and FIELDS["tier"].timeframe == NONE


def test_values_are_normalized():
    cleaned = clean_rules(
        json.dumps(
            group(
                {"field": "tier", "operator": "in", "value": ["gold", "GOLD", "Silver"]},
                {"field": "city", "operator": "equals", "value": "  Paris "},
                {"field": "source", "operator": "equals", "value": "doordash"},
                {"field": "created_at", "operator": "less_than_days_ago", "value": 30.0},
                group(
                    {"field": "blacklisted", "operator": "equals", "value": False},
                    operator="OR",
                    negate=False,
                ),
                negate=True,
            )
        )
    )
    assert cleaned == {
        "operator": "AND",
        "negate": True,
        "rules": [
            {"field": "tier", "operator": "in", "value": ["GOLD", "SILVER"]},
            {"field": "city", "operator": "equals", "value": "Paris"},
            {"field": "source", "operator": "equals", "value": "doordash", "timeframe": "lifetime"},
            {"field": "created_at", "operator": "less_than_days_ago", "value": 30},
            {"operator": "OR", "rules": [{"field": "blacklisted", "operator": "equals", "value": False}]},
        ],
    }
    assert clean_rules(cleaned) == cleaned


def nested(depth):
    rules = {"field": "tier", "operator": "equals", "value": "GOLD"}
    for _ in range(depth):
        rules = group(rules)
    return rules


def spent(**rule):
    return {
        "field": "total_spent",
        "operator": "greater_than",
        "value": 100,
        "timeframe": "last_90_days",
        **rule,
    }


BAD_RULES = [
    # The tree and its groups.
    ("{not json", ["rules: this is not valid JSON"]),
    ([spent()], ["rules: a group {operator, rules} is needed"]),
    (None, ["rules: a group {operator, rules} is needed"]),
    (group(spent(), operator="XOR"), ["operator: AND or OR is needed"]),
    ({"rules": [spent()]}, ["operator: AND or OR is needed"]),
    ({"operator": "AND", "rules": "all"}, ["rules: a list of rules is needed"]),
    ({"operator": "AND"}, ["rules: a list of rules is needed"]),
    (group(), ["rules: a group needs at least one rule"]),
    (group(spent(), group()), ["rules[1].rules: a group needs at least one rule"]),
    (group(spent(), group(spent(), operator="and")), ["rules[1].operator: AND or OR is needed"]),
    (group(spent(), negate="yes"), ["negate: true or false is needed"]),
    (group(spent(), limit=3), ["rules: unknown key “limit”"]),
    (group(7), ["rules[0]: a rule {field, operator, value} or a group {operator, rules} is needed"]),
    (group({"operator": "equals", "value": 1}), ["rules[0]: a rule needs a field, a group needs rules"]),
    (nested(6), ["rules[0].rules[0].rules[0].rules[0].rules[0]: groups nest at most 5 deep"]),
    (group(*[spent()] * 101), ["rules: at most 100 rules and groups in all"]),
    (group(group(*[spent()] * 60), group(*[spent()] * 60)), ["rules: at most 100 rules and groups in all"]),
    # A rule's field, operator and timeframe.
    (group(spent(field="revenue")), ["rules[0].field: there is no field “revenue”"]),
    (group({"field": ["tier"], "operator": "equals", "value": 1}), ["rules[0].field: there is no field “[\"tier\"]”"]),
    (group({"field": "phone_opt_in", "operator": "equals", "value": True}), ["rules[0].field: there is no field “phone_opt_in”"]),
    (
        group(spent(), group(spent(operator="contains"))),
        ["rules[1].rules[0].operator: total_spent takes equals, not_equals, greater_than, less_than, between, not “contains”"],
    ),
    (group({"field": "tags", "operator": "greater_than", "value": 1}), ["rules[0].operator: tags takes contains, in, not_in, is_set, not “greater_than”"]),
    (group({"field": "blacklisted", "operator": "in", "value": [True]}), ["rules[0].operator: blacklisted takes equals, not “in”"]),
    (group({"field": "created_at", "operator": "contains", "value": "2024"}), ["rules[0].operator: created_at takes equals, not_equals, greater_than, less_than, between, more_than_days_ago, less_than_days_ago, is_set, not “contains”"]),
    (group({"field": "tier", "value": "GOLD"}), ["rules[0].operator: tier takes equals, not_equals, in, not_in, not “null”"]),
    (group(spent(timeframe=None)), ["rules[0].timeframe: a timeframe is needed (last_30_days, last_90_days, last_365_days, lifetime)"]),
    (group(spent(timeframe="last_7_days")), ["rules[0].timeframe: “last_7_days” is not a timeframe (last_30_days, last_90_days, last_365_days, lifetime)"]),
    (group({"field": "tier", "operator": "equals", "value": "GOLD", "timeframe": "lifetime"}), ["rules[0].timeframe: tier takes no timeframe"]),
    (group(spent(colour="red")), ["rules[0]: unknown key “colour”"]),
    # Values.
    (group(spent(), group(spent(), spent(value="a lot"))), ["rules[1].rules[1].value: a number is needed"]),
    (group(spent(value=True)), ["rules[0].value: a number is needed"]),
    (group({k: v for k, v in spent().items() if k != "value"}), ["rules[0].value: a value is needed"]),
    (group(spent(value=float("nan"))), ["rules[0].value: a number is needed"]),
    (group(spent(value=10**13)), ["rules[0].value: a number from -1000000000000 to 1000000000000 is needed"]),
    (group(spent(value=-1e300)), ["rules[0].value: a number from -1000000000000 to 1000000000000 is needed"]),
    (group({"field": "order_count", "operator": "equals", "value": 1.5, "timeframe": "lifetime"}), ["rules[0].value: a whole number is needed"]),
    (group({"field": "days_since_last_order", "operator": "less_than", "value": "30"}), ["rules[0].value: a whole number is needed"]),
    (group({"field": "days_since_last_order", "operator": "greater_than", "value": 10**12}), ["rules[0].value: a number from 0 to 36500 is needed"]),
    (group({"field": "days_since_last_order", "operator": "between", "value": [-1, 3]}), ["rules[0].value[0]: a number from 0 to 36500 is needed"]),
    (group(spent(operator="between", value=[10])), ["rules[0].value: a list [low, high] is needed"]),
    (group(spent(operator="between", value="10-20")), ["rules[0].value: a list [low, high] is needed"]),
    (group(spent(operator="between", value=[10, "x"])), ["rules[0].value[1]: a number is needed"]),
    (group(spent(operator="between", value=[20, 10])), ["rules[0].value: low must not be above high"]),
    (group({"field": "tier", "operator": "equals", "value": "WOOD"}), ["rules[0].value: “WOOD” is not one of BRONZE, SILVER, GOLD, PLATINUM"]),
    (group({"field": "tier", "operator": "in", "value": ["GOLD", "WOOD"]}), ["rules[0].value[1]: “WOOD” is not one of BRONZE, SILVER, GOLD, PLATINUM"]),
    (group({"field": "tier", "operator": "in", "value": []}), ["rules[0].value: a list of one or more values is needed"]),
    (group({"field": "tier", "operator": "not_in", "value": "GOLD"}), ["rules[0].value: a list of one or more values is needed"]),
    (group({"field": "city", "operator": "in", "value": ["x"] * 101}), ["rules[0].value: at most 100 values"]),
    (group({"field": "status", "operator": "equals", "value": "gone"}), ["rules[0].value: “gone” is not one of active, inactive, suspended"]),
    (group({"field": "country", "operator": "equals", "value": "XX"}), ["rules[0].value: “XX” is not one of AC, AD, AE, AF, AG, AI, AL, AM, AO, AR, AS, AT, …"]),
    (group({"field": "city", "operator": "equals", "value": 5}), ["rules[0].value: a text is needed"]),
    (group({"field": "city", "operator": "contains", "value": "  "}), ["rules[0].value: a text is needed"]),
    (group({"field": "city", "operator": "equals", "value": "x" * 201}), ["rules[0].value: at most 200 characters, without NUL"]),
    (group({"field": "city", "operator": "equals", "value": "a\x00b"}), ["rules[0].value: at most 200 characters, without NUL"]),
    (group({"field": "tags", "operator": "contains", "value": ""}), ["rules[0].value: a tag name is needed"]),
    (group({"field": "tags", "operator": "is_set", "value": "yes"}), ["rules[0].value: true or false is needed"]),
    (group({"field": "blacklisted", "operator": "equals", "value": 1}), ["rules[0].value: true or false is needed"]),
    (group({"field": "created_at", "operator": "equals", "value": "2024-13-01"}), ["rules[0].value: a date YYYY-MM-DD between 1900 and 2100 is needed"]),
    (group({"field": "created_at", "operator": "equals", "value": "2024-01-01T00:00:00"}), ["rules[0].value: a date YYYY-MM-DD between 1900 and 2100 is needed"]),
    (group({"field": "created_at", "operator": "equals", "value": "1800-01-01"}), ["rules[0].value: a date YYYY-MM-DD between 1900 and 2100 is needed"]),
    (group({"field": "created_at", "operator": "equals", "value": 20240101}), ["rules[0].value: a date YYYY-MM-DD is needed"]),
    (group({"field": "created_at", "operator": "between", "value": ["2024-02-01", "2024-01-01"]}), ["rules[0].value: low must not be above high"]),
    (group({"field": "last_order_at", "operator": "more_than_days_ago", "value": 1.5}), ["rules[0].value: a whole number of days from 0 to 36500 is needed"]),
    (group({"field": "last_order_at", "operator": "more_than_days_ago", "value": -1}), ["rules[0].value: a whole number of days from 0 to 36500 is needed"]),
    (group({"field": "last_order_at", "operator": "less_than_days_ago", "value": "90"}), ["rules[0].value: a whole number of days is needed"]),
    # Several problems at once: each is named.
    (
        group(spent(value="x"), group({"field": "nope"}, operator="OR"), negate=1),
        [
            "negate: true or false is needed",
            "rules[0].value: a number is needed",
            "rules[1].rules[0].field: there is no field “nope”",
        ],
    ),
]  # fmt: skip


@pytest.mark.parametrize("data, messages", BAD_RULES)
def test_a_bad_rule_is_refused_with_a_message_pointing_at_it(data, messages):
    assert errors_of(data) == messages


def test_five_levels_of_groups_and_a_hundred_rules_and_groups_are_accepted():
    assert clean_rules(nested(5)) == nested(5)
    assert len(clean_rules(group(*[spent()] * 98, group(spent())))["rules"]) == 99


def test_a_deep_tree_is_refused_without_descending_into_it():
    assert errors_of(nested(10_000)) == [
        "rules[0].rules[0].rules[0].rules[0].rules[0]: groups nest at most 5 deep"
    ]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
    | st.sampled_from(["AND", "OR", "tier", "GOLD", "total_spent", "between", "in", "is_set", "lifetime", "2024-01-01"]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(
        st.sampled_from(["operator", "rules", "negate", "field", "value", "timeframe", "x"]), children, max_size=4
    ),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(data=JSON)
def test_no_json_makes_clean_rules_raise_anything_but_rule_error(data):
    try:
        clean_rules(data)
    except RuleError as error:
        assert error.messages and all(isinstance(message, str) for message in error.messages)


def test_json_text_nested_past_what_the_parser_takes_is_refused_as_invalid():
    assert errors_of("[" * 100_000) == ["rules: this is not valid JSON"]
