"""The one place membership changes are written, set-based: whoever joins or leaves a
segment (a recalculation, an event's batch, a hand-made change) goes through a temporary
table of changes, from which a few statements insert and delete the memberships and write
the history rows and the customers' timeline entries. Runs in the caller's transaction,
with the segment's row locked, so that two writers of one segment queue up."""

import json

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import F

from customers.models import Activity
from customers.services.webhooks import emit_for_customers, wanted
from segments.models import Segment, SegmentMembershipEvent

CHANGES_TABLE = "segments_changes"
JOINED, LEFT = SegmentMembershipEvent.Kind.JOINED, SegmentMembershipEvent.Kind.LEFT


# What a queryset that can match nothing (`pk__in=[]`) compiles to: Django refuses to.
NO_ROWS = ("SELECT 1 AS customer_id WHERE 1 = 0", ())


def sql_with_params(queryset):
    try:
        return queryset.query.sql_with_params()
    except EmptyResultSet:
        return NO_ROWS


def customer_ids_sql(customers):
    """The SELECT of the ids of a Customer queryset, as one column named customer_id: (sql, params)."""
    return sql_with_params(customers.order_by().values(customer_id=F("pk")))


def lock_segment(segment):
    return Segment.objects.select_for_update().get(pk=segment.pk)


def replace_members(segment, matching, *, cause, actor, at, scope=None):
    """Make the members of `segment` those of `matching` (a Customer queryset): all of them,
    or, with `scope` (a queryset of customer ids), only among those customers. Returns
    (joined, left)."""
    lock_segment(segment)
    matching_sql, matching_params = customer_ids_sql(matching)
    members_sql = "SELECT customer_id FROM segments_segmentmembership WHERE segment_id = %s"
    members_params = [segment.pk]
    if scope is not None:
        scope_sql, scope_params = sql_with_params(scope)
        members_sql += f" AND customer_id IN ({scope_sql})"
        members_params += list(scope_params)
    with connection.cursor() as cursor:
        start_changes(cursor)
        # One pass over both sides: who matches and is no member joins, who is a member and
        # no longer matches leaves.
        cursor.execute(
            f"INSERT INTO {CHANGES_TABLE} (customer_id, kind) "
            "SELECT COALESCE(m.customer_id, s.customer_id), "
            f"CASE WHEN s.customer_id IS NULL THEN '{JOINED}' ELSE '{LEFT}' END "
            f"FROM ({matching_sql}) m FULL JOIN ({members_sql}) s ON s.customer_id = m.customer_id "
            "WHERE m.customer_id IS NULL OR s.customer_id IS NULL",
            [*matching_params, *members_params],
        )
        return write_changes(cursor, segment, cause=cause, actor=actor, at=at)


def add_members(segment, customers, *, cause, actor, at):
    """Add the customers of a queryset who are not members yet. Returns how many joined."""
    lock_segment(segment)
    sql, params = customer_ids_sql(customers.exclude(segment_memberships__segment=segment))
    with connection.cursor() as cursor:
        start_changes(cursor)
        cursor.execute(
            f"INSERT INTO {CHANGES_TABLE} (customer_id, kind) "
            f"SELECT c.customer_id, '{JOINED}' FROM ({sql}) c",
            params,
        )
        return write_changes(cursor, segment, cause=cause, actor=actor, at=at)[0]


def remove_members(segment, customer_ids, *, cause, actor, at):
    """Remove the members among a queryset of customer ids. Returns how many left."""
    lock_segment(segment)
    members = segment.memberships.filter(customer_id__in=customer_ids)
    sql, params = sql_with_params(members.order_by().values("customer_id"))
    with connection.cursor() as cursor:
        start_changes(cursor)
        cursor.execute(
            f"INSERT INTO {CHANGES_TABLE} (customer_id, kind) SELECT customer_id, '{LEFT}' FROM ({sql}) c",
            params,
        )
        return write_changes(cursor, segment, cause=cause, actor=actor, at=at)[1]


def start_changes(cursor):
    """An empty changes table. It is created once per connection, not per change: creating
    and dropping a table writes the catalogs, which cost a small segment's recalculation
    more than its members did. On PostgreSQL its rows go at every commit."""
    emptied_at_commit = " ON COMMIT DELETE ROWS" if connection.vendor == "postgresql" else ""
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {CHANGES_TABLE} "
        f"(customer_id bigint NOT NULL, kind varchar(10) NOT NULL){emptied_at_commit}"
    )
    cursor.execute(f"DELETE FROM {CHANGES_TABLE}")


def emit_membership_events(cursor, segment, cause):
    """customers.segment.assigned / unassigned, one event per chunk of customers; the changes
    are read back only when an endpoint of the business wants them."""
    for kind, name in ((JOINED, "customers.segment.assigned"), (LEFT, "customers.segment.unassigned")):
        if not wanted(segment.business_id, name):
            continue
        cursor.execute(
            f"SELECT customer_id FROM {CHANGES_TABLE} WHERE kind = %s ORDER BY customer_id", [kind]
        )
        emit_for_customers(
            business_id=segment.business_id,
            type=name,
            customer_ids=[row[0] for row in cursor.fetchall()],
            segment_id=segment.pk,
            cause=cause,
        )


def write_changes(cursor, segment, *, cause, actor, at):
    """Apply the changes table: memberships, history, timeline, member count."""
    time = connection.ops.adapt_datetimefield_value(at)
    actor_id = actor.pk if actor else None
    cursor.execute(f"SELECT kind, COUNT(*) FROM {CHANGES_TABLE} GROUP BY kind")
    counts = dict(cursor.fetchall())
    joined, left = counts.get(JOINED, 0), counts.get(LEFT, 0)
    if joined or left:
        cursor.execute(
            "DELETE FROM segments_segmentmembership WHERE segment_id = %s AND customer_id IN "
            f"(SELECT customer_id FROM {CHANGES_TABLE} WHERE kind = '{LEFT}')",
            [segment.pk],
        )
        cursor.execute(
            "INSERT INTO segments_segmentmembership (segment_id, customer_id, since) "
            f"SELECT %s, customer_id, %s FROM {CHANGES_TABLE} WHERE kind = '{JOINED}'",
            [segment.pk, time],
        )
        cursor.execute(
            "INSERT INTO segments_segmentmembershipevent (segment_id, customer_id, kind, cause, at) "
            f"SELECT %s, customer_id, kind, %s, %s FROM {CHANGES_TABLE}",
            [segment.pk, cause, time],
        )
        data = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
        cursor.execute(
            "INSERT INTO customers_activity (business_id, customer_id, kind, actor_id, data, created_at) "
            f"SELECT %s, customer_id, CASE kind WHEN '{JOINED}' THEN %s ELSE %s END, %s, {data}, %s "
            f"FROM {CHANGES_TABLE}",
            [
                segment.business_id,
                Activity.Kind.SEGMENT_JOINED,
                Activity.Kind.SEGMENT_LEFT,
                actor_id,
                json.dumps({"segment": segment.name, "segment_id": segment.pk, "cause": cause}),
                time,
            ],
        )
        cursor.execute(
            "UPDATE segments_segment SET member_count = member_count + %s - %s WHERE id = %s",
            [joined, left, segment.pk],
        )
        emit_membership_events(cursor, segment, cause)
    return joined, left
