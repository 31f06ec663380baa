"""A rule tree read as a sentence, its fields, and whether time alone changes its members."""

import pytest

from segments.rules import RuleError, fields_of, is_time_relative, summary

SPENT_AND_GOLD_OR_VIP = {
    "operator": "AND",
    "rules": [
        {"field": "total_spent", "operator": "greater_than", "value": 100, "timeframe": "last_90_days"},
        {
            "operator": "OR",
            "rules": [
                {"field": "tier", "operator": "equals", "value": "GOLD"},
                {"field": "tags", "operator": "contains", "value": "vip"},
            ],
        },
    ],
}


def group(*rules, **extra):
    return {"operator": "AND", "rules": list(rules), **extra}


def test_a_tree_reads_as_a_sentence():
    assert summary(SPENT_AND_GOLD_OR_VIP) == (
        "Total spent in the last 90 days is more than 100 and (Tier is Gold or Tags contains vip)"
    )
    assert summary(
        group(
            {"field": "last_order_at", "operator": "more_than_days_ago", "value": 90},
            {"field": "status", "operator": "not_in", "value": ["inactive", "suspended"]},
            {"field": "created_at", "operator": "between", "value": ["2024-01-01", "2024-06-30"]},
            {"field": "source", "operator": "equals", "value": "doordash"},
            group({"field": "predicted_clv", "operator": "is_set", "value": False}, negate=True),
        )
    ) == (
        "Last order more than 90 days ago and Status is none of Inactive, Suspended and Customer since is "
        "between 2024-01-01 and 2024-06-30 and Ordered through (partner app) is doordash and "
        "not (Predicted value, next 365 days is not set)"
    )


def test_the_fields_of_a_tree():
    assert fields_of(SPENT_AND_GOLD_OR_VIP) == {"total_spent", "tier", "tags"}


@pytest.mark.parametrize(
    "rule, relative",
    [
        ({"field": "total_spent", "operator": "greater_than", "value": 1, "timeframe": "last_30_days"}, True),
        ({"field": "total_spent", "operator": "greater_than", "value": 1, "timeframe": "lifetime"}, False),
        ({"field": "days_since_last_order", "operator": "greater_than", "value": 30}, True),
        ({"field": "created_at", "operator": "less_than_days_ago", "value": 30}, True),
        ({"field": "created_at", "operator": "less_than", "value": "2024-01-01"}, False),
        ({"field": "source", "operator": "equals", "value": "doordash"}, False),
        ({"field": "tier", "operator": "equals", "value": "GOLD"}, False),
    ],
)
def test_time_relative_rules_are_told_apart(rule, relative):
    assert (
        is_time_relative(group({"field": "tier", "operator": "equals", "value": "GOLD"}, group(rule)))
        is relative
    )


def test_reading_a_bad_tree_raises_rule_error():
    with pytest.raises(RuleError):
        summary(group({"field": "nope"}))
