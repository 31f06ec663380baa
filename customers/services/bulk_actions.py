"""Running a bulk action (customers.bulk_actions) on selected customers: at once for a few,
as a job with progress over BULK_ACTION_SYNC_MAX; and the customers app's own actions,
adding and removing a tag, set-based with a timeline entry per customer tagged."""

import json

from django.conf import settings
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from customers import bulk_actions
from customers.bulk_actions import BulkResult
from customers.jobs import JobCancelled, claim_job, finish_cancelled, finish_job, report_progress
from customers.models import Activity, BulkActionJob, Customer, Tag, validate_tag_color
from customers.services.audit import log_audit
from customers.signals import tags_changed

CHUNK_SIZE = 2_000
# The customers a tag action selects, then those it changed, in the action's transaction.
TARGETS = "bulk_action_targets"
UNEXPECTED_BULK_ERROR = (
    "An unexpected error stopped the action. Retry it: customers already done are skipped."
)


def run_bulk_action(*, business, action, customers, params, actor):
    """Run `action` (a registered BulkAction) on the business's live customers of a queryset
    with the form's `params` (plain JSON values). Returns (BulkResult, None) when done at
    once, or (None, the queued BulkActionJob)."""
    ids = list(customers.filter(business=business).live().order_by("pk").values_list("pk", flat=True))
    if len(ids) > settings.BULK_ACTION_SYNC_MAX:
        return None, request_bulk_job(business=business, action=action, ids=ids, params=params, actor=actor)
    with transaction.atomic():
        result = action.run(
            business=business, customers=Customer.objects.filter(pk__in=ids), actor=actor, **params
        )
        audit(business, actor, action, len(ids), result)
    return result, None


@transaction.atomic
def request_bulk_job(*, business, action, ids, params, actor):
    job = BulkActionJob.objects.create(
        business=business,
        actor=actor,
        action=action.key,
        params=params,
        customer_ids=ids,
        total_rows=len(ids),
    )
    log_audit(
        business=business, actor=actor, action="bulk_action.requested", target=action.label, job_id=job.pk
    )
    queue_bulk_job(job)
    return job


def queue_bulk_job(job):
    """The job kind's start (customers.jobs)."""
    transaction.on_commit(lambda: async_task("customers.tasks.run_bulk_action_job", job.pk, group="bulk"))


def run_bulk_action_job(job_id):
    """Do the job's action a chunk of customers at a time, each chunk in its own transaction."""
    if not claim_job(job_id):
        return None
    job = BulkActionJob.objects.select_related("business", "actor").get(pk=job_id)
    action = bulk_actions.ACTIONS.get(job.action)
    if action is None or action.run is None:
        return finish_job(job, failure=f"The action “{job.action}” no longer exists.")
    result = BulkResult()
    ids = job.customer_ids
    try:
        for start in range(0, len(ids), CHUNK_SIZE):
            chunk = Customer.objects.filter(
                business=job.business, pk__in=ids[start : start + CHUNK_SIZE]
            ).live()
            with transaction.atomic():
                result.add(action.run(business=job.business, customers=chunk, actor=job.actor, **job.params))
            gone = len(ids[start : start + CHUNK_SIZE]) - chunk.count()
            result.skip("deleted or merged since", gone)
            job.result = result.as_json()
            BulkActionJob.objects.filter(pk=job.pk).update(result=job.result)
            report_progress(job, min(start + CHUNK_SIZE, len(ids)))
    except JobCancelled:
        job.result = result.as_json()
        return finish_cancelled(job, "The customers done so far stay changed.")
    except ValidationError as error:
        job.result = result.as_json()
        return finish_job(job, failure=" ".join(error.messages))
    except Exception:
        finish_job(job, failure=UNEXPECTED_BULK_ERROR)
        raise
    job.result = result.as_json()
    audit(job.business, job.actor, action, len(ids), result)
    return finish_job(job)


def audit(business, actor, action, selected, result):
    log_audit(
        business=business,
        actor=actor,
        action="bulk_action.done",
        target=action.label,
        selected=selected,
        **result.as_json(),
    )


def find_or_create_tag(business, name):
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "A tag needs a name."})
    tag = Tag.objects.filter(business=business, name__iexact=name).first()
    return tag or Tag.objects.create(business=business, name=name)


def tag_many(*, business, customers, actor, name, color=None):
    """Add a tag (created if the business has none of that name, in any case) to the
    customers who lack it, set-based. In the caller's transaction."""
    if color:
        validate_tag_color(color)
    tag = find_or_create_tag(business, name)
    customers = customers.filter(business=business)
    links = Customer.tags.through._meta.db_table
    with connection.cursor() as cursor:
        selected = fill_targets(cursor, customers)
        # Each link probes the unique index of (customer, tag), never reading the tag's other
        # links: the planner cannot know how many a tag created by this action has by now.
        # (WHERE true: SQLite's way of telling an upsert's ON from a join's.)
        cursor.execute(
            f"INSERT INTO {links} (customer_id, tag_id) SELECT customer_id, %s FROM {TARGETS} WHERE true "
            "ON CONFLICT DO NOTHING RETURNING customer_id",
            [tag.pk],
        )
        changed = keep_targets(cursor, [row[0] for row in cursor.fetchall()])
        insert_activities(cursor, business, Activity.Kind.TAGGED, actor, {"tag": tag.name})
        cursor.execute(f"DROP TABLE {TARGETS}")
    return changed_and_skipped(business, len(selected), changed, "already tagged")


def untag_many(*, business, customers, actor, tag_id):
    """Remove one of the business's tags from the customers who have it, set-based."""
    tag = Tag.objects.filter(business=business, pk=tag_id).first()
    if tag is None:
        raise ValidationError({"tag": "No such tag in this business."})
    customers = customers.filter(business=business)
    links = Customer.tags.through._meta.db_table
    with connection.cursor() as cursor:
        selected = fill_targets(cursor, customers)
        cursor.execute(
            f"DELETE FROM {links} WHERE tag_id = %s AND customer_id IN (SELECT customer_id FROM {TARGETS}) "
            "RETURNING customer_id",
            [tag.pk],
        )
        changed = keep_targets(cursor, [row[0] for row in cursor.fetchall()])
        insert_activities(cursor, business, Activity.Kind.UNTAGGED, actor, {"tag": tag.name})
        cursor.execute(f"DROP TABLE {TARGETS}")
    return changed_and_skipped(business, len(selected), changed, "did not have the tag")


def fill_targets(cursor, customers):
    """Put the ids of a Customer queryset into the temporary table TARGETS; returns them."""
    try:
        sql, params = customers.order_by().values(customer_id=F("pk")).query.sql_with_params()
    except EmptyResultSet:  # a selection of no ids
        sql, params = "SELECT 1 AS customer_id WHERE 1 = 0", ()
    cursor.execute(f"DROP TABLE IF EXISTS {TARGETS}")
    cursor.execute(f"CREATE TEMPORARY TABLE {TARGETS} AS SELECT c.customer_id FROM ({sql}) c", params)
    cursor.execute(f"SELECT customer_id FROM {TARGETS}")
    return [row[0] for row in cursor.fetchall()]


def keep_targets(cursor, ids):
    """Keep in TARGETS only the customers of `ids` (those the action changed); returns them."""
    cursor.execute(f"DELETE FROM {TARGETS}")
    cursor.executemany(f"INSERT INTO {TARGETS} (customer_id) VALUES (%s)", [(pk,) for pk in ids])
    return ids


def insert_activities(cursor, business, kind, actor, data):
    """One timeline entry of `kind` with `data` for every customer of TARGETS."""
    value = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    cursor.execute(
        f"INSERT INTO {Activity._meta.db_table} (business_id, customer_id, kind, actor_id, data, created_at) "
        f"SELECT %s, customer_id, %s, %s, {value}, %s FROM {TARGETS}",
        [
            business.pk,
            kind,
            actor.pk if actor else None,
            json.dumps(data),
            connection.ops.adapt_datetimefield_value(timezone.now()),
        ],
    )


def changed_and_skipped(business, selected, ids, reason):
    result = BulkResult(changed=len(ids))
    result.skip(reason, selected - len(ids))
    if ids:
        tags_changed.send(sender=Tag, business_id=business.pk, customer_ids=ids)
    return result
