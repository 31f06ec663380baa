"""Every write of the points ledger: the business's rule (audited), earning for completed
orders (one order, or an import's chunk set-based), the reversal of a refunded or cancelled
order's points, adjustments by staff, redemptions, expiry and the balances after a merge.

Each keeps `Customer.points_balance` equal to the sum of the customer's entries: the entry
and the balance change in one transaction, the balance with `points_balance + n` in the
UPDATE itself, and whatever takes points first locks the customer's row, so concurrent
earns and redemptions on one customer stay exact. The database refuses a negative balance."""

import calendar
from collections import Counter

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Max, Min, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.models import Activity, Customer, Order
from customers.services.activity import log_activity
from customers.services.audit import log_audit
from loyalty.models import PointsEntry, PointsRule

Kind = PointsEntry.Kind
# The largest number of points one entry may move; the ledger's columns hold 32-bit integers.
MAX_ENTRY_POINTS = 10_000_000
MAX_POINTS_PER_UNIT = 1000
MAX_EXPIRY_MONTHS = 120
# Customers whose points expire, locked and written per transaction.
EXPIRY_CHUNK = 2_000
# Kinds the API and the profile's form ask for; the others follow from orders and time.
MANUAL_KINDS = (Kind.ADJUST, Kind.REDEEM)
REVERSED_STATUSES = (Order.Status.REFUNDED, Order.Status.CANCELLED)


def points_rule(business):
    """The business's rule, created with the defaults (1 point per 1.00, no expiry) the first time."""
    rule, _ = PointsRule.objects.get_or_create(business=business)
    return rule


def rule_json(rule):
    return {"points_per_unit": str(rule.points_per_unit), "expiry_months": rule.expiry_months}


def add_months(moment, months):
    """The same day and time `months` later (the month's last day when it is shorter)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def expiry_of(rule, at):
    return add_months(at, rule.expiry_months) if rule.expiry_months else None


@transaction.atomic
def configure_points_rule(*, business, points_per_unit, expiry_months, actor):
    """Change how the business's customers earn points from now on (points already earned
    keep their expiry). Audited."""
    errors = {}
    if points_per_unit is None or not 0 <= points_per_unit <= MAX_POINTS_PER_UNIT:
        errors["points_per_unit"] = [f"Give between 0 and {MAX_POINTS_PER_UNIT} points per 1.00 spent."]
    if expiry_months is not None and not 1 <= expiry_months <= MAX_EXPIRY_MONTHS:
        errors["expiry_months"] = [f"Points expire after 1 to {MAX_EXPIRY_MONTHS} months, or never (empty)."]
    if errors:
        raise ValidationError(errors)
    rule = PointsRule.objects.select_for_update().get(pk=points_rule(business).pk)
    old = rule_json(rule)
    rule.points_per_unit, rule.expiry_months = points_per_unit, expiry_months
    rule.updated_at, rule.updated_by = timezone.now(), actor
    rule.save()
    rule.refresh_from_db()
    new = rule_json(rule)
    if new != old:
        log_audit(
            business=business,
            actor=actor,
            action="points.rule_changed",
            target="Points rule",
            old=old,
            new=new,
        )
    return rule


def earn_for_orders(*, business, order_ids=None, id_range=None, actor=None, at=None):
    """Give the business's completed orders among `order_ids` (or with an id in
    [low, high)) the points of the business's rule, once per order: one INSERT … SELECT of
    the entries, one UPDATE of the balances and one insert of the timeline entries, inside
    the caller's transaction. Returns the entries written as (id, customer id, order id, points)."""
    rule = points_rule(business)
    if not rule.points_per_unit or order_ids == []:
        return []
    at = at or timezone.now()
    # In whole cents, so that 0.57 × 100 is 57 on SQLite's floating point as on PostgreSQL.
    points = "(CAST(ROUND(o.amount * 100) AS BIGINT) * %s) / 10000"
    rate = int(rule.points_per_unit * 100)
    if order_ids is not None:
        which, which_params = f"o.id IN ({', '.join(['%s'] * len(order_ids))})", list(order_ids)
    else:
        which, which_params = "o.id >= %s AND o.id < %s", list(id_range)
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO loyalty_pointsentry "
            "(business_id, customer_id, kind, points, order_id, reason, actor_id, created_at, expires_at) "
            f"SELECT o.business_id, o.customer_id, %s, {points}, o.id, '', %s, %s, %s "
            f"FROM customers_order o WHERE o.business_id = %s AND {which} AND o.status = %s "
            f"AND {points} > 0 AND NOT EXISTS (SELECT 1 FROM loyalty_pointsentry e "
            "WHERE e.order_id = o.id AND e.kind = %s) "
            "RETURNING id, customer_id, order_id, points",
            [
                Kind.EARN,
                rate,
                actor.pk if actor else None,
                adapt(at),
                adapt(expiry_of(rule, at)),
                business.pk,
                *which_params,
                Order.Status.COMPLETED,
                rate,
                Kind.EARN,
            ],
        )
        entries = cursor.fetchall()
    add_to_balances(sum_by_customer(entries))
    Activity.objects.bulk_create(
        Activity(
            business_id=business.pk,
            customer_id=customer_id,
            kind=Activity.Kind.POINTS_CHANGED,
            actor=actor,
            data={
                "entry_id": entry_id,
                "entry_kind": Kind.EARN,
                "points": entry_points,
                "order_id": order_id,
            },
            created_at=at,
        )
        for entry_id, customer_id, order_id, entry_points in entries
    )
    return entries


def sum_by_customer(entries):
    total = Counter()
    for _, customer_id, _, points in entries:
        total[customer_id] += points
    return total


def add_to_balances(points_by_customer):
    """One UPDATE adding each customer's points to their balance."""
    rows = [(customer_id, points) for customer_id, points in points_by_customer.items() if points]
    if not rows:
        return
    values = ", ".join(["(CAST(%s AS INTEGER), CAST(%s AS INTEGER))"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE customers_customer SET points_balance = customers_customer.points_balance + v.column2 "
            f"FROM (VALUES {values}) AS v WHERE customers_customer.id = v.column1",
            [value for row in rows for value in row],
        )


def write_entry(customer, *, kind, points, reason="", order=None, actor=None, expires_at=None):
    """One entry for a customer read under its row lock in this transaction, its balance and
    its timeline line. Returns the entry, with `balance` the customer's new balance."""
    entry = PointsEntry.objects.create(
        business_id=customer.business_id,
        customer=customer,
        kind=kind,
        points=points,
        order=order,
        reason=reason,
        actor=actor,
        expires_at=expires_at,
    )
    Customer.objects.filter(pk=customer.pk).update(points_balance=F("points_balance") + points)
    entry.balance = customer.points_balance + points
    log_activity(
        customer,
        Activity.Kind.POINTS_CHANGED,
        actor,
        entry_id=entry.pk,
        entry_kind=kind,
        points=points,
        reason=reason,
        **({"order_id": order.pk} if order else {}),
    )
    return entry


def lock_live_customer(customer):
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.deleted_at or customer.anonymized_at:
        raise ValidationError(
            {"customer": ["This customer is deleted, merged or anonymized: their points cannot change."]}
        )
    return customer


@transaction.atomic
def reverse_order_points(*, order, actor=None):
    """Take back what a refunded or cancelled order earned, once; never more than the
    customer still has (points already spent stay spent). Returns the entry or None."""
    earned = PointsEntry.objects.filter(order=order, kind=Kind.EARN).first()
    if earned is None or PointsEntry.objects.filter(order=order, kind=Kind.REVERSE).exists():
        return None
    customer = Customer.objects.select_for_update().get(pk=earned.customer_id)
    points = min(earned.points, customer.points_balance)
    if points == 0:
        return None
    return write_entry(
        customer,
        kind=Kind.REVERSE,
        points=-points,
        order=order,
        reason=f"Order {order.external_id} {order.get_status_display().lower()}",
        actor=actor,
    )


def clean_points(points):
    """An integer number of points other than zero, within what an entry may move."""
    if isinstance(points, bool) or not isinstance(points, int):
        raise ValidationError({"points": ["Give a whole number of points."]})
    if points == 0 or abs(points) > MAX_ENTRY_POINTS:
        raise ValidationError(
            {"points": [f"Give a number of points other than 0, at most {MAX_ENTRY_POINTS:,}."]}
        )
    return points


def clean_reason(reason):
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError({"reason": ["Say why the points change."]})
    return reason.strip()[:500]


@transaction.atomic
def change_points(*, customer, kind, points, reason, actor):
    """An adjustment (`points` signed: adds or takes) or a redemption (`points` to take,
    positive) with its reason. Refused when it would take more than the balance. Returns the
    entry, with `balance` the new balance."""
    errors = {}
    if kind not in MANUAL_KINDS:
        errors["kind"] = [f"kind must be one of {', '.join(MANUAL_KINDS)}."]
    for clean, value in ((clean_points, points), (clean_reason, reason)):
        try:
            clean(value)
        except ValidationError as error:
            errors.update(error.message_dict)
    if kind == Kind.REDEEM and not errors.get("points") and points < 0:
        errors["points"] = ["Give the number of points to redeem as a positive number."]
    if errors:
        raise ValidationError(errors)
    customer = lock_live_customer(customer)
    change = -points if kind == Kind.REDEEM else points
    if customer.points_balance + change < 0:
        what = "redeem" if kind == Kind.REDEEM else "take"
        raise ValidationError(
            {"points": [f"The balance is {customer.points_balance} points: cannot {what} {-change}."]}
        )
    expires_at = expiry_of(points_rule(customer.business), timezone.now()) if change > 0 else None
    return write_entry(
        customer, kind=kind, points=change, reason=clean_reason(reason), actor=actor, expires_at=expires_at
    )


def expire_points(*, at=None):
    """The daily task's work: what remains of points past their expiry expires. Points are
    spent soonest-expiring first, so a customer loses their expired points less everything
    taken from them so far (by redemptions, reversals, adjustments and earlier expiries).
    Set-based, per chunk of customers locked in id order. Returns the entries written."""
    at = at or timezone.now()
    due = PointsEntry.objects.filter(expires_at__lte=at).order_by().values("customer_id").distinct()
    customer_ids = sorted(due.values_list("customer_id", flat=True))
    written = []
    for start in range(0, len(customer_ids), EXPIRY_CHUNK):
        with transaction.atomic():
            written += expire_chunk(customer_ids[start : start + EXPIRY_CHUNK], at)
    return written


def expire_chunk(customer_ids, at):
    list(Customer.objects.select_for_update().filter(pk__in=customer_ids).order_by("pk").values_list("pk"))
    time = connection.ops.adapt_datetimefield_value(at)
    ids = ", ".join(["%s"] * len(customer_ids))
    remaining = (
        "SUM(CASE WHEN points > 0 AND expires_at <= %s THEN points ELSE 0 END) "
        "+ SUM(CASE WHEN points < 0 THEN points ELSE 0 END)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO loyalty_pointsentry "
            "(business_id, customer_id, kind, points, order_id, reason, actor_id, created_at, expires_at) "
            "SELECT business_id, customer_id, %s, -due, NULL, %s, NULL, %s, NULL FROM ("
            f"SELECT business_id, customer_id, {remaining} AS due FROM loyalty_pointsentry "
            f"WHERE customer_id IN ({ids}) GROUP BY business_id, customer_id) t WHERE due > 0 "
            "RETURNING id, customer_id, business_id, points",
            [Kind.EXPIRE, "Points past their expiry date", time, time, *customer_ids],
        )
        entries = cursor.fetchall()
    add_to_balances({customer_id: points for _, customer_id, _, points in entries})
    Activity.objects.bulk_create(
        Activity(
            business_id=business_id,
            customer_id=customer_id,
            kind=Activity.Kind.POINTS_CHANGED,
            data={"entry_id": entry_id, "entry_kind": Kind.EXPIRE, "points": points},
            created_at=at,
        )
        for entry_id, customer_id, business_id, points in entries
    )
    return entries


def balance_to_ledger(customer_ids):
    """Set these customers' balances to the sums of their entries (after a merge moved
    entries between them, or its undo moved them back). Refused, with the reason, when a
    sum is below zero: the survivor spent points that an undo would take back."""
    sums = ledger_sums(customer_ids)
    short = {pk: total for pk, total in sums.items() if total < 0}
    if short:
        pk, total = next(iter(short.items()))
        raise ValidationError(
            f"Customer #{pk} has since spent {-total} points that came with the merge: "
            "adjust their points up by that much first, then undo.",
            code="conflict",
        )
    ledger = (
        PointsEntry.objects.filter(customer_id=OuterRef("pk"))
        .order_by()
        .values("customer_id")
        .annotate(total=Sum("points"))
        .values("total")
    )
    Customer.objects.filter(pk__in=customer_ids).update(points_balance=Coalesce(Subquery(ledger), 0))


def ledger_sums(customer_ids):
    totals = dict(
        PointsEntry.objects.filter(customer_id__in=customer_ids)
        .order_by()
        .values_list("customer_id")
        .annotate(total=Sum("points"))
    )
    return {pk: totals.get(pk, 0) for pk in customer_ids}


def seed_demo_points(*, business, actor, rng, chunk=5_000):
    """seed_demo's ledger: every completed order earns (set-based, per range of order ids),
    then a few customers get an adjustment or redeem part of their points."""
    orders = Order.objects.filter(business=business).order_by()
    bounds = orders.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        return
    for low in range(bounds["low"], bounds["high"] + 1, chunk):
        with transaction.atomic():
            earn_for_orders(business=business, id_range=(low, low + chunk))
    customers = Customer.objects.filter(business=business, points_balance__gt=0, anonymized_at=None).live()
    for position, customer in enumerate(customers.order_by("?")[:9]):
        if position % 3 == 0:
            kind, points, reason = Kind.ADJUST, rng.choice([25, 50, 100]), rng.choice(GIFTS)
        elif position % 3 == 1:
            kind, points, reason = (
                Kind.ADJUST,
                -min(customer.points_balance, 20),
                "Correction: order counted twice",
            )
        else:
            kind, points, reason = Kind.REDEEM, max(1, customer.points_balance // 2), rng.choice(REWARDS)
        change_points(customer=customer, kind=kind, points=points, reason=reason, actor=actor)


GIFTS = ["Apology for a late delivery", "Birthday gift", "Welcome bonus"]
REWARDS = ["Free dessert", "5.00 off an order", "Free delivery"]
