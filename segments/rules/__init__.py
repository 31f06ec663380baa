"""The segment rule engine: the field whitelist, the grammar and its checks, and the rules
compiled to one SQL query. `segments.rules.reference` is a plain-Python evaluator of the same
rules, for the tests."""

from segments.rules.fields import (
    FIELDS,
    OPERATOR_LABELS,
    TIMEFRAMES,
    Field,
    describe_fields,
    register_field,
    related_field,
)
from segments.rules.grammar import RuleError, clean_rules
from segments.rules.query import PreviewTooSlow, condition, members, preview
from segments.rules.reading import fields_of, is_time_relative, summary

__all__ = [
    "FIELDS",
    "OPERATOR_LABELS",
    "TIMEFRAMES",
    "Field",
    "PreviewTooSlow",
    "RuleError",
    "clean_rules",
    "condition",
    "describe_fields",
    "fields_of",
    "is_time_relative",
    "members",
    "preview",
    "register_field",
    "related_field",
    "summary",
]
