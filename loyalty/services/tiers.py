"""Every write of the loyalty tiers: the configuration (audited), recalculations as jobs,
re-evaluation after orders, overrides and their expiry. The rules live in loyalty.tiers."""

import json
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django_q.tasks import async_task

from customers import jobs
from customers.models import Activity, Business, Customer, Job, MergeRecord
from customers.services.activity import unsaved_activity
from customers.services.audit import log_audit
from customers.services.webhooks import EVENT_CHUNK, Event, emit_events
from loyalty import tiers
from loyalty.models import (
    TIER_ORDER,
    Tier,
    TierChange,
    TierConfigAudit,
    TierConfiguration,
    TierRecalculation,
    TierState,
)
from loyalty.signals import tiers_changed

RECALCULATION_CHUNK = 50_000
OVERRIDE_CHUNK = 2_000
EVALUATION_TABLE = "loyalty_evaluation"


def tier_configuration(business):
    """The business's configuration, created with the defaults the first time it is needed."""
    configuration, _ = TierConfiguration.objects.get_or_create(
        business=business,
        defaults={"thresholds": tiers.DEFAULT_THRESHOLDS, "grace_days": tiers.DEFAULT_GRACE_DAYS},
    )
    return configuration


def configuration_json(configuration):
    return {**configuration.thresholds, "grace_days": configuration.grace_days}


@transaction.atomic
def configure_tiers(*, business, thresholds, grace_days, reason, actor):
    """Save new thresholds and grace days with their audit row, and start a recalculation of
    every customer. Returns (configuration, recalculation job)."""
    errors = {}
    try:
        thresholds = tiers.clean_thresholds(thresholds)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        grace_days = tiers.clean_grace_days(grace_days)
    except ValidationError as error:
        errors.update(error.message_dict)
    if not isinstance(reason, str) or not reason.strip():
        errors["reason"] = ["Say why the tiers change."]
    if errors:
        raise ValidationError(errors)
    configuration = TierConfiguration.objects.select_for_update().get(pk=tier_configuration(business).pk)
    old = configuration_json(configuration)
    configuration.thresholds, configuration.grace_days = thresholds, grace_days
    configuration.updated_at, configuration.updated_by = timezone.now(), actor
    configuration.save()
    new = configuration_json(configuration)
    TierConfigAudit.objects.create(
        business=business,
        configuration=configuration,
        old=old,
        new=new,
        reason=reason.strip(),
        changed_by=actor,
    )
    log_audit(
        business=business,
        actor=actor,
        action="tiers.configured",
        target="Tier configuration",
        old=old,
        new=new,
    )
    job = request_recalculation(
        business=business, actor=actor, reason=f"Configuration changed: {reason.strip()}"
    )
    return configuration, job


@transaction.atomic
def request_recalculation(*, business, actor, reason="On demand"):
    job = TierRecalculation.objects.create(business=business, actor=actor, reason=reason[:200])
    log_audit(
        business=business, actor=actor, action="tiers.recalculation_requested", target=job, job_id=job.pk
    )
    queue_recalculation(job)
    return job


def queue_recalculation(job):
    """The job kind's start (customers.jobs): queue the task once the job is committed."""
    transaction.on_commit(lambda: async_task("loyalty.tasks.recalculate_tiers", job.pk, group="tiers"))


def run_recalculation(job_id, *, at=None):
    """Recalculate every live customer of the job's business, one id range at a time."""
    if not jobs.claim_job(job_id):
        return None
    job = TierRecalculation.objects.select_related("business").get(pk=job_id)
    customers = Customer.objects.filter(business=job.business).live()
    job.total_rows = customers.count()
    Job.objects.filter(pk=job.pk).update(total_rows=job.total_rows)
    try:
        recalculate_in_chunks(
            tier_configuration(job.business),
            at=at or timezone.now(),
            reason=job.reason,
            actor=job.actor,
            after_chunk=lambda done: jobs.report_progress(job, done),
        )
    except jobs.JobCancelled:
        return jobs.finish_cancelled(job, "The customers recalculated so far keep their new tier.")
    except Exception:
        jobs.finish_job(job, failure="An unexpected error stopped the recalculation. Retry it.")
        raise
    return jobs.finish_job(job)


def recalculate_in_chunks(configuration, *, at, reason, actor, after_chunk=None):
    """apply_evaluation over every live customer, one transaction per id range."""
    customers = Customer.objects.filter(business_id=configuration.business_id).live()
    bounds = customers.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        return
    done = 0
    for low in range(bounds["low"], bounds["high"] + 1, RECALCULATION_CHUNK):
        id_range = (low, low + RECALCULATION_CHUNK)
        with transaction.atomic():
            refresh_figures(configuration.business_id, at=at, id_range=id_range, keep_newer=True)
            evaluated, _ = apply_evaluation(
                configuration,
                at=at,
                cause=TierChange.Cause.RECALCULATION,
                reason=reason,
                actor=actor,
                id_range=id_range,
            )
        done += evaluated
        if after_chunk:
            after_chunk(done)


def refresh_figures(business_id, *, at, customer_ids=None, id_range=None, keep_newer=False):
    """Store the rolling figures of these customers (loyalty.tiers.refresh_figures_sql)."""
    sql, params = tiers.refresh_figures_sql(
        business_id=business_id, at=at, customer_ids=customer_ids, id_range=id_range, keep_newer=keep_newer
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def recalculate_customers(business, customer_ids, *, cause, actor=None, at=None):
    """Re-evaluate a few customers at once (after their orders), inside the caller's
    transaction: refresh their rolling figures and read their evaluation (one statement on
    PostgreSQL), and write only when something changes: the order API pays two queries when no
    tier moves."""
    thresholds, grace_days = rules_of(business)
    at = at or timezone.now()
    rows = tiers.evaluate(
        refresh=True,
        business_id=business.pk,
        thresholds=thresholds,
        grace_days=grace_days,
        at=at,
        customer_ids=customer_ids,
    )
    moving = [row["id"] for row in rows if needs_writing(row)]
    if moving:
        configuration = tier_configuration(business)
        apply_evaluation(configuration, at=at, cause=cause, reason="", actor=actor, customer_ids=moving)
    return moving


def rules_of(business):
    """(thresholds, grace days) of the business's configuration, read in plain SQL: every
    order pays this read, and the ORM's get costs it eight times the query's own time."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT thresholds, grace_days FROM loyalty_tierconfiguration WHERE business_id = %s",
            [business.pk],
        )
        row = cursor.fetchone()
    if row is None:
        configuration = tier_configuration(business)
        return configuration.thresholds, configuration.grace_days
    thresholds, grace_days = row
    return (json.loads(thresholds) if isinstance(thresholds, str) else thresholds), grace_days


def needs_writing(row):
    """The tier moves, a grace starts, or a grace ends."""
    if row["new_tier"] != row["old_tier"]:
        return True
    if row["overridden"]:
        return False
    in_grace = row["qualified"] != row["new_tier"]
    return in_grace != (row["below_since"] is not None)


def apply_evaluation(configuration, *, at, cause, reason, actor, customer_ids=None, id_range=None):
    """Evaluate the customers into a temporary table and write, set-based, what changes: the
    tier, a TierChange and a timeline entry for each customer whose tier moves, and the start
    or end of their grace. Sends `tiers_changed` with the moved ids. Returns (customers
    evaluated, moved ids). Runs inside the caller's transaction."""
    business_id = configuration.business_id
    select, params = tiers.evaluation_sql(
        business_id=business_id,
        thresholds=configuration.thresholds,
        grace_days=configuration.grace_days,
        at=at,
        customer_ids=customer_ids,
        id_range=id_range,
    )
    time = connection.ops.adapt_datetimefield_value(at)
    actor_id = actor.pk if actor else None
    down = f"{tiers.RANK_OF_TIER.format(column='new_tier')} < {tiers.RANK_OF_TIER.format(column='old_tier')}"
    # A downgrade after the grace is the grace's end, whatever started the evaluation.
    cause_sql = f"CASE WHEN {down} AND %s THEN '{TierChange.Cause.GRACE_ENDED}' ELSE %s END"
    data = (
        '\'{"from": "\' || old_tier || \'", "to": "\' || new_tier || \'", "cause": "\' || '
        f"{cause_sql} || '\", \"reason\": ' || %s || '}}'"
    )
    if connection.vendor == "postgresql":
        data = f"CAST({data} AS jsonb)"
    graced = configuration.grace_days > 0
    moved = f"FROM {EVALUATION_TABLE} WHERE new_tier <> old_tier"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {EVALUATION_TABLE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {EVALUATION_TABLE} AS {select}", params)
        cursor.execute(f"SELECT COUNT(*) FROM {EVALUATION_TABLE}")
        evaluated = cursor.fetchone()[0]
        cursor.execute(f"SELECT id, old_tier, new_tier {moved}")
        changes = cursor.fetchall()
        moved_ids = [row[0] for row in changes]
        if moved_ids:
            cursor.execute(
                "INSERT INTO loyalty_tierchange "
                "(business_id, customer_id, from_tier, to_tier, cause, reason, actor_id, changed_at) "
                f"SELECT %s, id, old_tier, new_tier, {cause_sql}, %s, %s, %s {moved}",
                [business_id, graced, cause, reason, actor_id, time],
            )
            cursor.execute(
                "INSERT INTO customers_activity (business_id, customer_id, kind, actor_id, data, created_at) "
                f"SELECT %s, id, %s, %s, {data}, %s {moved}",
                [business_id, Activity.Kind.TIER_CHANGED, actor_id, graced, cause, json.dumps(reason), time],
            )
            # The ids once more for the customers table: the planner then reads the customers
            # from the first id of the range, not from the first id of all.
            chosen, chosen_params = tiers.customers_condition(customer_ids, id_range)
            cursor.execute(
                f"UPDATE customers_customer SET tier = e.new_tier, updated_at = %s FROM {EVALUATION_TABLE} e "
                f"WHERE customers_customer.id = e.id AND e.new_tier <> e.old_tier "
                f"AND {chosen('customers_customer.id')}",
                [time, *chosen_params],
            )
        in_grace = "overridden = 0 AND qualified <> new_tier"
        cursor.execute(
            "UPDATE loyalty_tierstate SET below_since = %s WHERE below_since IS NULL AND customer_id IN "
            f"(SELECT id FROM {EVALUATION_TABLE} WHERE has_state = 1 AND {in_grace})",
            [time],
        )
        cursor.execute(
            "INSERT INTO loyalty_tierstate (customer_id, below_since, override_tier, override_reason) "
            f"SELECT id, %s, '', '' FROM {EVALUATION_TABLE} WHERE has_state = 0 AND {in_grace}",
            [time],
        )
        cursor.execute(
            "DELETE FROM loyalty_tierstate WHERE customer_id IN "
            f"(SELECT id FROM {EVALUATION_TABLE} "
            "WHERE has_state = 1 AND overridden = 0 AND qualified = new_tier)"
        )
        cursor.execute(f"DROP TABLE {EVALUATION_TABLE}")
    if moved_ids:
        tiers_changed.send(sender=TierChange, business_id=business_id, customer_ids=moved_ids)
        emit_tier_events(business_id, changes)
    return evaluated, moved_ids


def clean_override(tier, reason, expires_at, at):
    errors = {}
    if tier not in TIER_ORDER:
        errors["tier"] = [f"tier must be one of {', '.join(TIER_ORDER)}."]
    if not isinstance(reason, str) or not reason.strip():
        errors["reason"] = ["Say why the tier is set by hand."]
    if expires_at is not None and expires_at <= at:
        errors["expires_at"] = ["The expiry must be in the future."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def override_tiers(*, business, customers, tier, reason, expires_at=None, actor):
    """Give the business's live customers among `customers` this tier by hand, until
    `expires_at` (or until removed). Each gets a TierChange and a timeline entry. Returns
    how many were overridden."""
    at = timezone.now()
    clean_override(tier, reason, expires_at, at)
    reason = reason.strip()
    ids = list(customers.filter(business=business).live().values_list("id", flat=True).order_by("id"))
    for start in range(0, len(ids), OVERRIDE_CHUNK):
        chunk = list(Customer.objects.filter(pk__in=ids[start : start + OVERRIDE_CHUNK]).select_for_update())
        TierState.objects.bulk_create(
            [
                TierState(
                    customer=customer,
                    override_tier=tier,
                    override_reason=reason,
                    override_expires_at=expires_at,
                )
                for customer in chunk
            ],
            update_conflicts=True,
            unique_fields=["customer"],
            update_fields=["override_tier", "override_reason", "override_expires_at"],
        )
        record_changes(chunk, tier, cause=TierChange.Cause.OVERRIDE, reason=reason, actor=actor, at=at)
    if ids:
        log_audit(
            business=business,
            actor=actor,
            action="tiers.overridden",
            target=f"{len(ids)} customers",
            tier=tier,
            reason=reason,
            expires_at=expires_at.isoformat() if expires_at else None,
        )
    return len(ids)


def record_changes(customers, tier, *, cause, reason, actor, at):
    """Set `tier` on these customers (read in this transaction), with a TierChange and a
    timeline entry for each, and tell the other apps about those that moved."""
    TierChange.objects.bulk_create(
        TierChange(
            business_id=customer.business_id,
            customer=customer,
            from_tier=customer.tier,
            to_tier=tier,
            cause=cause,
            reason=reason,
            actor=actor,
            changed_at=at,
        )
        for customer in customers
    )
    Activity.objects.bulk_create(
        unsaved_activity(
            customer,
            Activity.Kind.TIER_CHANGED,
            actor,
            **{"from": customer.tier, "to": tier},
            cause=cause,
            reason=reason,
        )
        for customer in customers
    )
    moved = [customer.pk for customer in customers if customer.tier != tier]
    Customer.objects.filter(pk__in=moved).update(tier=tier, updated_at=at)
    if moved:
        tiers_changed.send(sender=TierChange, business_id=customers[0].business_id, customer_ids=moved)
        emit_tier_events(
            customers[0].business_id,
            [(customer.pk, customer.tier, tier) for customer in customers if customer.tier != tier],
        )


def emit_tier_events(business_id, changes):
    """customers.tier.upgraded / downgraded for (customer id, from, to) changes: one event
    per chunk of customers, as a recalculation moves many at once."""
    rank = {name: position for position, name in enumerate(TIER_ORDER)}
    events = []
    for name, went_up in (("customers.tier.upgraded", True), ("customers.tier.downgraded", False)):
        entries = [
            {"customer_id": pk, "from": old, "to": new}
            for pk, old, new in changes
            if (rank[new] > rank[old]) is went_up
        ]
        for start in range(0, len(entries), EVENT_CHUNK):
            chunk = entries[start : start + EVENT_CHUNK]
            events.append(
                Event(name, {"changes": chunk}, chunk[0]["customer_id"] if len(chunk) == 1 else None)
            )
    if events:
        emit_events(business_id=business_id, events=events)


@transaction.atomic
def remove_override(*, customer, actor, cause=TierChange.Cause.OVERRIDE_EXPIRED, reason="Override removed"):
    """End a customer's override: the tier they qualify for applies at once (no grace)."""
    state = TierState.objects.select_for_update().filter(customer=customer).exclude(override_tier="").first()
    if state is None:
        raise ValidationError("This customer's tier is not overridden.")
    end_overrides(customer.business, [customer.pk], cause=cause, reason=reason, actor=actor)


def end_overrides(business, customer_ids, *, cause, reason, actor, at=None):
    at = at or timezone.now()
    TierState.objects.filter(customer_id__in=customer_ids).delete()
    configuration = tier_configuration(business)
    rows = tiers.evaluate(
        refresh=True,
        business_id=business.pk,
        thresholds=configuration.thresholds,
        grace_days=configuration.grace_days,
        at=at,
        customer_ids=customer_ids,
    )
    by_tier = {}
    for row in rows:
        by_tier.setdefault(row["qualified"], []).append(row["id"])
    for tier, ids in by_tier.items():
        customers = list(Customer.objects.filter(pk__in=ids).select_for_update())
        record_changes(customers, tier, cause=cause, reason=reason, actor=actor, at=at)


def expire_overrides(*, at=None):
    """The scheduled task's work: end every override whose expiry has passed."""
    at = at or timezone.now()
    expired = TierState.objects.filter(override_expires_at__lte=at).exclude(override_tier="")
    by_business = {}
    for customer_id, business_id in expired.values_list("customer_id", "customer__business_id"):
        by_business.setdefault(business_id, []).append(customer_id)
    for business in Business.objects.filter(pk__in=by_business):
        ids = by_business[business.pk]
        for start in range(0, len(ids), OVERRIDE_CHUNK):
            with transaction.atomic():
                end_overrides(
                    business,
                    ids[start : start + OVERRIDE_CHUNK],
                    cause=TierChange.Cause.OVERRIDE_EXPIRED,
                    reason="Override expired",
                    actor=None,
                    at=at,
                )
    return sum(len(ids) for ids in by_business.values())


# The survivor's tier before and after a merge, kept in the merge record's snapshot for undo.
MERGE_TIER = "loyalty_tier"


def merge_tiers(*, record, survivor, merged):
    """Inside the merge's transaction (customers locked): the survivor takes the highest tier
    of the customers merged, with a TierChange and a timeline entry, and its rolling figures
    count the orders it took over."""
    tier = max((customer.tier for customer in [survivor, *merged]), key=TIER_ORDER.index)
    if tier != survivor.tier:
        record.snapshot[MERGE_TIER] = [survivor.tier, tier]
        MergeRecord.objects.filter(pk=record.pk).update(snapshot=record.snapshot)
        record_changes(
            [survivor],
            tier,
            cause=TierChange.Cause.MERGE,
            reason=f"Merge: {record.reason}",
            actor=record.actor,
            at=timezone.now(),
        )
    refresh_figures(survivor.business_id, at=timezone.now(), customer_ids=[survivor.pk])


def undo_merge_tiers(*, record):
    """Inside the undo's transaction: the survivor gets back the tier it had before the merge,
    unless its tier changed since, with a TierChange and a timeline entry; every customer of
    the merge gets the rolling figures of the orders it has back."""
    at = timezone.now()
    if MERGE_TIER in record.snapshot:
        before, after = record.snapshot[MERGE_TIER]
        survivor = Customer.objects.select_for_update().get(pk=record.survivor_id)
        if survivor.tier == after:
            record_changes(
                [survivor],
                before,
                cause=TierChange.Cause.MERGE,
                reason="Merge undone",
                actor=record.undone_by,
                at=at,
            )
    refresh_figures(record.business_id, at=at, customer_ids=[record.survivor_id, *record.merged_ids])


def seed_demo_tiers(*, business, actor, rng):
    """seed_demo's tiers: the default configuration, every customer's tier computed, and a few
    customers in each state the pages show (overridden with and without an expiry, in grace)."""
    configuration = tier_configuration(business)
    at = timezone.now()
    recalculate_in_chunks(configuration, at=at, reason="Demo data", actor=None)
    customers = Customer.objects.filter(business=business).live()
    picked = list(customers.filter(tier_state__isnull=True).order_by("?").values_list("id", flat=True)[:6])
    expiry = at + timedelta(days=rng.randint(10, 60))
    for ids, tier, reason, expires_at in [
        (picked[:2], Tier.PLATINUM, "Partner restaurant owner", None),
        (picked[2:4], Tier.GOLD, "Apology for a lost order", expiry),
    ]:
        if ids:
            override_tiers(
                business=business,
                customers=Customer.objects.filter(pk__in=ids),
                tier=tier,
                reason=reason,
                expires_at=expires_at,
                actor=actor,
            )
    # Gold customers who no longer qualify: they keep gold during the grace, shown on their profile.
    graced = picked[4:]
    below_since = at - timedelta(days=rng.randint(5, configuration.grace_days or 1))
    with transaction.atomic():
        record_changes(
            list(Customer.objects.filter(pk__in=graced).select_for_update()),
            Tier.GOLD,
            cause=TierChange.Cause.RECALCULATION,
            reason="Demo data",
            actor=None,
            at=below_since,
        )
        TierState.objects.bulk_create(TierState(customer_id=pk, below_since=below_since) for pk in graced)
