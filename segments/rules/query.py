"""Rule trees compiled to one SQL query over the business's live customers."""

import time

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from customers.models import Customer
from segments.rules.fields import COMPLEMENTS, FIELDS, Context
from segments.rules.grammar import clean_rules

TOO_SLOW = (
    "This rule takes too long to preview (over {seconds:g} s). Save the segment: its members are "
    "then computed in the background."
)


class PreviewTooSlow(Exception):
    """The preview's query ran past SEGMENT_PREVIEW_TIMEOUT_MS; str() is for the user."""


def condition(rules, *, business, at=None):
    """The Q over Customer that the rule tree stands for (validated first: RuleError)."""
    context = Context(business=business, at=at or timezone.now())
    return group_q(clean_rules(rules), context)


def group_q(group, context):
    parts = [group_q(item, context) if "rules" in item else rule_q(item, context) for item in group["rules"]]
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part if group["operator"] == "AND" else combined | part
    return ~combined if group.get("negate") else combined


def rule_q(rule, context):
    field = FIELDS[rule["field"]]
    operator, value, timeframe = rule["operator"], rule["value"], rule.get("timeframe")
    if operator in COMPLEMENTS:
        return ~field.condition(COMPLEMENTS[operator], value, timeframe, context)
    if operator == "is_set" and value is False:
        return ~field.condition("is_set", True, timeframe, context)
    return field.condition(operator, value, timeframe, context)


def members(rules, *, business, at=None):
    """The live customers of `business` that the rules select: one query."""
    return (
        Customer.objects.live().filter(business=business).filter(condition(rules, business=business, at=at))
    )


def preview(rules, *, business, at=None, sample=20):
    """{"count", "sample": [ids of the newest `sample` members]}. On PostgreSQL both queries
    together get SEGMENT_PREVIEW_TIMEOUT_MS: the count its statement timeout, the sample what
    is left of it; past it, PreviewTooSlow."""
    queryset = members(rules, business=business, at=at)
    budget_ms = settings.SEGMENT_PREVIEW_TIMEOUT_MS
    started = time.monotonic()
    try:
        with transaction.atomic():
            limit_statements(budget_ms)
            count = queryset.count()
            limit_statements(max(1, budget_ms - round((time.monotonic() - started) * 1000)))
            ids = list(queryset.order_by("-created_at", "-id").values_list("pk", flat=True)[:sample])
            limit_statements(None)
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) == "57014":  # query_canceled
            raise PreviewTooSlow(TOO_SLOW.format(seconds=budget_ms / 1000)) from error
        raise
    return {"count": count, "sample": ids}


def limit_statements(milliseconds):
    """PostgreSQL's statement timeout for the rest of this transaction (None: the default
    again, as a savepoint's enclosing transaction goes on after the preview)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if milliseconds is None:
            cursor.execute("SET LOCAL statement_timeout TO DEFAULT")
        else:
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(milliseconds)])
