"""The segments every business starts with (seed 003's six segment types and seed 004's
"High value" example), created once per business and editable like any other."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    key: str
    name: str
    description: str
    rules: dict


def rule(field, operator, value, timeframe=None):
    return {"field": field, "operator": operator, "value": value} | (
        {"timeframe": timeframe} if timeframe else {}
    )


PRESETS = [
    Preset(
        "new_customer",
        "New customers",
        "Registered in the last 30 days, fewer than 2 orders.",
        {
            "operator": "AND",
            "rules": [
                rule("created_at", "less_than_days_ago", 30),
                rule("order_count", "less_than", 2, "lifetime"),
            ],
        },
    ),
    Preset(
        "regular_customer",
        "Regular customers",
        "Registered 30 days ago or more, 2 orders or more, less than 1,000 spent.",
        {
            "operator": "AND",
            "rules": [
                rule("created_at", "more_than_days_ago", 30),
                rule("order_count", "greater_than", 1, "lifetime"),
                rule("total_spent", "less_than", 1000, "lifetime"),
            ],
        },
    ),
    Preset(
        "high_value",
        "High average order",
        "An average order of 200 or more.",
        {"operator": "AND", "rules": [rule("avg_order_value", "greater_than", 199.99, "lifetime")]},
    ),
    Preset(
        # Seed 003 says 10+ orders in the last 6 months; the rule timeframes have no 6 months.
        "frequent_buyer",
        "Frequent buyers",
        "10 orders or more in the last 365 days.",
        {"operator": "AND", "rules": [rule("order_count", "greater_than", 9, "last_365_days")]},
    ),
    Preset(
        # Seed 003's at_risk (no order in 90 days) stops where churned (180 days) starts, so
        # that a customer is in one of the two.
        "at_risk",
        "At risk",
        "Last order between 90 and 180 days ago.",
        {
            "operator": "AND",
            "rules": [
                rule("last_order_at", "more_than_days_ago", 90),
                rule("last_order_at", "less_than_days_ago", 180),
            ],
        },
    ),
    Preset(
        "churned",
        "Churned",
        "No order in the last 180 days.",
        {"operator": "AND", "rules": [rule("last_order_at", "more_than_days_ago", 180)]},
    ),
    Preset(
        "high_value_tiers",
        "High value",
        "Spent more than 1,000 in the last 365 days and in tier Gold or Platinum (seed 004's example).",
        {
            "operator": "AND",
            "rules": [
                rule("total_spent", "greater_than", 1000, "last_365_days"),
                rule("tier", "in", ["GOLD", "PLATINUM"]),
            ],
        },
    ),
]
