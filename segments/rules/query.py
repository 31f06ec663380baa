"""Rule trees compiled to one SQL query over the business's live customers."""

import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, router, transaction
from django.utils import timezone

from customers.models import Customer
from segments.rules.fields import COMPLEMENTS, FIELDS, Context
from segments.rules.grammar import clean_rules

TOO_SLOW = (
    "This rule takes too long to preview (over {seconds:g} s). Save the segment: its members are "
    "then computed in the background."
)


# How long the preview's sample may walk the newest customers before it sorts the members.
SAMPLE_WALK_MS = 150


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
    is left of it; past it, PreviewTooSlow. On a replica when the caller reads from one."""
    db = router.db_for_read(Customer)
    queryset = members(rules, business=business, at=at).using(db)
    budget_ms = settings.SEGMENT_PREVIEW_TIMEOUT_MS
    started = time.monotonic()

    def left_ms():
        return max(1, budget_ms - round((time.monotonic() - started) * 1000))

    try:
        with transaction.atomic(using=db):
            limit_statements(budget_ms, using=db)
            count = queryset.count()
            ids = newest_members(queryset, sample, left_ms)
            limit_statements(None, using=db)
    except OperationalError as error:
        if is_statement_timeout(error):
            raise PreviewTooSlow(TOO_SLOW.format(seconds=budget_ms / 1000)) from error
        raise
    return {"count": count, "sample": ids}


def newest_members(queryset, sample, left_ms):
    """The ids of the newest `sample` customers of the queryset. The database walks the
    customers from the newest until enough match, which is quick unless the newest rarely
    match (e.g. "no order for 180 days"); so on PostgreSQL the walk gets a part of the time
    left, and past it the members are found first and the newest of them taken."""
    newest = queryset.order_by("-created_at", "-id").values_list("pk", flat=True)[:sample]
    if connections[queryset.db].vendor != "postgresql":
        return list(newest)
    try:
        with transaction.atomic(using=queryset.db):
            limit_statements(max(1, min(left_ms(), SAMPLE_WALK_MS)), using=queryset.db)
            return list(newest)
    except OperationalError as error:
        if not is_statement_timeout(error):
            raise
    limit_statements(left_ms(), using=queryset.db)
    sql, params = queryset.order_by().values("pk", "created_at").query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        # OFFSET 0 keeps the members a subquery of their own, evaluated before the sort.
        cursor.execute(
            f"SELECT m.pk FROM ({sql} OFFSET 0) m ORDER BY m.created_at DESC, m.pk DESC LIMIT %s",
            [*params, sample],
        )
        return [row[0] for row in cursor.fetchall()]


def is_statement_timeout(error):
    return getattr(error.__cause__, "sqlstate", None) == "57014"  # query_canceled


def limit_statements(milliseconds, using=DEFAULT_DB_ALIAS):
    """PostgreSQL's statement timeout for the rest of this transaction (None: the default
    again, as a savepoint's enclosing transaction goes on after the preview)."""
    if connections[using].vendor != "postgresql":
        return
    with connections[using].cursor() as cursor:
        if milliseconds is None:
            cursor.execute("SET LOCAL statement_timeout TO DEFAULT")
        else:
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(milliseconds)])
