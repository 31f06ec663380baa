"""What a rule tree says, for pages and schedules: a sentence a person reads, the fields it
tests, and whether its members change with time alone (a recalculation then runs hourly)."""

from segments.rules.fields import FIELDS, OPERATOR_LABELS, TIMEFRAME_LABELS
from segments.rules.grammar import clean_rules

TIME_RELATIVE_OPERATORS = {"more_than_days_ago", "less_than_days_ago"}


def rules_of(group):
    for item in group["rules"]:
        if "rules" in item:
            yield from rules_of(item)
        else:
            yield item


def fields_of(rules):
    """The names of the fields the (valid) rule tree tests."""
    return {rule["field"] for rule in rules_of(clean_rules(rules))}


def is_time_relative(rules):
    """Whether members can come and go as time passes, with no change to any data: a rule
    over a recent timeframe, days since the last order, or "… days ago"."""
    return any(
        rule.get("timeframe", "lifetime") != "lifetime"
        or rule["field"] == "days_since_last_order"
        or rule["operator"] in TIME_RELATIVE_OPERATORS
        for rule in rules_of(clean_rules(rules))
    )


def summary(rules):
    """The rule tree as a sentence: "Total spent in the last 90 days is more than 100 and
    (Tier is Gold or Tags contains vip)"."""
    return group_text(clean_rules(rules), top=True)


def group_text(group, top=False):
    joiner = " and " if group["operator"] == "AND" else " or "
    parts = [group_text(item) if "rules" in item else rule_text(item) for item in group["rules"]]
    text = joiner.join(parts)
    if group.get("negate"):
        return f"not ({text})"
    return text if top or len(parts) == 1 else f"({text})"


def rule_text(rule):
    field = FIELDS[rule["field"]]
    operator, value = rule["operator"], rule["value"]
    subject = field.label
    timeframe = rule.get("timeframe")
    if timeframe and not (timeframe == "lifetime" and field.timeframe == "optional"):
        subject = f"{subject} {TIMEFRAME_LABELS[timeframe]}"
    if operator == "is_set":
        return f"{subject} is set" if value else f"{subject} is not set"
    if operator in TIME_RELATIVE_OPERATORS:
        comparison = "more" if operator == "more_than_days_ago" else "less"
        return f"{subject} {comparison} than {value} days ago"
    labels = dict(field.choices)

    def shown(item):
        return str(labels.get(item, item))

    if operator == "between":
        return f"{subject} is between {shown(value[0])} and {shown(value[1])}"
    if operator in ("in", "not_in"):
        return f"{subject} {OPERATOR_LABELS[operator]} {', '.join(shown(item) for item in value)}"
    return f"{subject} {OPERATOR_LABELS[operator]} {shown(value)}"
