"""The dashboard's summary tables (DailyOrderSummary, CohortActivity, RepeatOrderSummary
and its sums per month, RepeatOrderMonthSummary), kept exact in the transactions that
change orders, and rebuilt from the orders by the reconciliation task.

Every figure of the tables is a sum over customers: an order belongs to one customer, a
customer is new on one day, counts once in a cohort cell per month it ordered in, its
spells of activity (the 90 days from each completed order, merged) start and end on days,
and each of its completed orders follows its previous one (or none). So a
change that touches a few customers (a status change, an import chunk, a merge or its undo)
is kept exact by `tracked(business, customer_ids)`: their contributions are aggregated from
the orders before and after the change, and the difference is added in one upsert per
table. New orders take a shorter path (`add_new_order` for the order API,
`tracked_new_orders` for a batch or an import chunk): unless one comes before its
customer's last order, the customers' stats, read under their locks, tell what the orders
add without reading any order.

Days and months are the business's, by `placed_at`; "new" and the cohort come from the
customer's first completed order (`Customer.first_order_at`, kept exact by the services)."""

import logging
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, DateField, F, Q, Sum
from django.db.models.functions import Trunc, TruncDate, TruncMonth
from django.utils import timezone

from customers import normalize
from customers.models import (
    CohortActivity,
    Customer,
    DailyOrderSummary,
    Order,
    RepeatOrderMonthSummary,
    RepeatOrderSummary,
)

logger = logging.getLogger(__name__)

COMPLETED = Order.Status.COMPLETED
DAY_COLUMNS = [
    "orders",
    "revenue",
    "refunds",
    "refunded_amount",
    "blocked_orders",
    "new_customers",
    "address_changes",
    "activity_starts",
    "activity_ends",
]
# A customer is active on the day of a completed order and the 89 days after it.
ACTIVE_DAYS = 90
MONEY_COLUMNS = {"revenue", "refunded_amount"}
LATER = RepeatOrderSummary.Ordinal.LATER
# The days the periodic reconciliation checks: today and yesterday cover a late order, in
# any time zone; older days change only through the services that keep them exact.
RECONCILED_DAYS = 3


def local_day(business, moment):
    return normalize.local_day(business.timezone, moment)


def day_start(business, day):
    return normalize.day_start(business.timezone, day)


def is_backdated(customer, status, placed_at):
    """Whether a new completed order comes before the customer's last one: then the months
    it makes active and the customer's cohort need the orders, not only the stats."""
    return status == COMPLETED and customer.last_order_at is not None and placed_at < customer.last_order_at


def add_new_order(business, customer, order):
    """What a new order adds, from `customer` as read under its lock before the order was
    counted in its stats (the caller has checked `is_backdated` is false)."""
    add_new_orders(
        business, {customer.pk: customer}, [(customer.pk, order.status, order.placed_at, order.amount)]
    )


@dataclass
class CountedStats:
    """A customer's stats as they become when new orders are counted one after another."""

    order_count: int
    first_order_at: datetime | None
    last_order_at: datetime | None

    def count(self, placed_at):
        self.order_count += 1
        self.first_order_at = min(self.first_order_at or placed_at, placed_at)
        self.last_order_at = max(self.last_order_at or placed_at, placed_at)


def counted_stats(customers):
    return {
        pk: CountedStats(customer.order_count, customer.first_order_at, customer.last_order_at)
        for pk, customer in customers.items()
    }


def any_backdated(customers, orders):
    """Whether any of the new `orders`, (customer id, status, placed_at) recorded one after
    another, is_backdated when it comes."""
    stats = counted_stats(customers)
    for customer_id, status, placed_at in orders:
        if is_backdated(stats[customer_id], status, placed_at):
            return True
        if status == COMPLETED:
            stats[customer_id].count(placed_at)
    return False


def add_new_orders(business, customers, orders):
    """What new orders, (customer id, status, placed_at, amount) in the order they were
    recorded, add: counted one after another from `customers` {id: customer as read under
    its lock before the first of them}, none of them backdated (`any_backdated`)."""
    days = defaultdict(Counter)
    cells, repeats = Counter(), Counter()
    stats = counted_stats(customers)
    for customer_id, status, placed_at, amount in orders:
        customer = stats[customer_id]
        day = local_day(business, placed_at)
        change = days[day]
        if status == COMPLETED:
            change["orders"] += 1
            change["revenue"] += amount
            month = normalize.first_of_month(day)
            last = local_day(business, customer.last_order_at) if customer.last_order_at else None
            repeats[day, min(customer.order_count + 1, LATER), last or day] += 1
            if customer.first_order_at is None:
                change["new_customers"] += 1
                cells[month, month] += 1
            elif normalize.first_of_month(last) != month:
                cells[normalize.first_of_month(local_day(business, customer.first_order_at)), month] += 1
            extend_activity(days, last, day)
            customer.count(placed_at)
        elif status == Order.Status.REFUNDED:
            change["refunds"] += 1
            change["refunded_amount"] += amount
        elif status == Order.Status.BLOCKED:
            change["blocked_orders"] += 1
    add(business, {d: c for d, c in days.items() if c}, cells, repeats)


def extend_activity(days, last, day):
    """A completed order on `day` of a customer whose last one was on `last` (or None):
    a new active spell, or the current one lasting longer."""
    if last is not None and day <= last + timedelta(days=ACTIVE_DAYS - 1):
        if day > last:
            days[last + timedelta(days=ACTIVE_DAYS)]["activity_ends"] -= 1
            days[day + timedelta(days=ACTIVE_DAYS)]["activity_ends"] += 1
        return
    days[day]["activity_starts"] += 1
    days[day + timedelta(days=ACTIVE_DAYS)]["activity_ends"] += 1


@contextmanager
def tracked(business, customer_ids):
    """Keep the summaries exact across a change of these customers' orders or first orders:
    their stats must be recomputed before the block ends."""
    ids = sorted(set(customer_ids))
    # Locked, so that an order the API records for one of them meanwhile (which locks its
    # customer too) is not counted both by its own upkeep and by this difference.
    list(Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
    before = contributions(business, ids)
    yield
    settle(business, ids, before)


@contextmanager
def tracked_new_orders(business, planned):
    """tracked() for recording new orders, `planned` as (customer id, status, placed_at) in
    the order they are recorded. When none is backdated, the block puts the orders it
    wrote (some planned may be recorded already) in the list it is given, as (customer id,
    status, placed_at, amount) in their order, and they are counted as by add_new_orders,
    without reading the customers' orders; otherwise as by tracked()."""
    ids = sorted({customer_id for customer_id, _, _ in planned})
    customers = Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    customers = {
        customer.pk: customer for customer in customers.only("order_count", "first_order_at", "last_order_at")
    }
    if any_backdated(customers, planned):
        with tracked(business, ids):
            yield []
        return
    written = []
    yield written
    add_new_orders(business, customers, written)


def settle(business, customer_ids, before):
    """Add what changed in these customers' contributions since `before`."""
    after = contributions(business, customer_ids)
    add(
        business,
        difference(after.days, before.days),
        difference(after.cells, before.cells),
        difference(after.repeats, before.repeats),
    )


class Figures:
    """Summary rows as {day: Counter of DAY_COLUMNS}, {(cohort, month): customers} and
    {(day, ordinal, previous_day): orders}."""

    def __init__(self, days, cells, repeats):
        self.days, self.cells, self.repeats = days, cells, repeats


def contributions(business, customer_ids):
    if not customer_ids:
        return Figures({}, Counter(), Counter())
    orders = Order.objects.filter(business=business, customer_id__in=customer_ids)
    days = daily_figures(business, orders)
    for day, change in activity_figures(business, orders).items():
        days.setdefault(day, Counter()).update(change)
    return Figures(days, cohort_figures(business, orders), repeat_figures(business, orders))


def daily_figures(business, orders):
    """{day: Counter} of `orders` (a queryset of one business's orders)."""
    tz = normalize.zone(business.timezone)
    rows = (
        orders.annotate(day=TruncDate("placed_at", tzinfo=tz))
        .values("day")
        .annotate(
            orders=Count("pk", filter=Q(status=COMPLETED)),
            revenue=Sum("amount", filter=Q(status=COMPLETED)),
            refunds=Count("pk", filter=Q(status=Order.Status.REFUNDED)),
            refunded_amount=Sum("amount", filter=Q(status=Order.Status.REFUNDED)),
            blocked_orders=Count("pk", filter=Q(status=Order.Status.BLOCKED)),
            address_changes=Count("pk", filter=Q(original_dropoff__isnull=False)),
        )
        .order_by()
    )
    days = {row.pop("day"): Counter({k: v or 0 for k, v in row.items()}) for row in rows}
    # A customer is new on the day of their first completed order: that order's day.
    firsts = (
        orders.filter(status=COMPLETED, placed_at=F("customer__first_order_at"))
        .annotate(day=TruncDate("placed_at", tzinfo=tz))
        .values("day")
        .annotate(new_customers=Count("customer_id", distinct=True))
        .order_by()
    )
    for row in firsts:
        days.setdefault(row["day"], Counter())["new_customers"] = row["new_customers"]
    return days


def activity_figures(business, orders):
    """{day: Counter(activity_starts, activity_ends)} of the customers' completed `orders`:
    their days with an order, in order, make spells of activity (one day to the next
    within 90 days). Of a window of orders, the figures are right for the days from 90
    days after its start."""
    tz = normalize.zone(business.timezone)
    pairs = (
        orders.filter(status=COMPLETED)
        .annotate(day=TruncDate("placed_at", tzinfo=tz))
        .values_list("customer_id", "day")
        .distinct()
        .order_by("customer_id", "day")
    )
    days = defaultdict(Counter)
    customer, last = None, None
    for customer_id, day in pairs.iterator(chunk_size=10_000):
        extend_activity(days, last if customer_id == customer else None, day)
        customer, last = customer_id, day
    return days


def cohort_figures(business, orders):
    """{(cohort, month): distinct customers} of the completed ones among `orders`."""
    tz = normalize.zone(business.timezone)
    rows = (
        orders.filter(status=COMPLETED)
        .annotate(
            cohort=Trunc("customer__first_order_at", "month", output_field=DateField(), tzinfo=tz),
            month=Trunc("placed_at", "month", output_field=DateField(), tzinfo=tz),
        )
        .values("cohort", "month")
        .annotate(customers=Count("customer_id", distinct=True))
        .order_by()
    )
    return Counter({(row["cohort"], row["month"]): row["customers"] for row in rows})


def repeat_figures(business, orders):
    """{(day, ordinal, previous_day): orders} of the completed ones among `orders`, which
    hold every order of their customers placed before the last one of them."""
    tz = normalize.zone(business.timezone)
    rows = (
        orders.filter(status=COMPLETED)
        .annotate(day=TruncDate("placed_at", tzinfo=tz))
        .values_list("customer_id", "day")
        .order_by("customer_id", "placed_at", "pk")
    )
    repeats = Counter()
    customer, placed, last = None, 0, None
    for customer_id, day in rows.iterator(chunk_size=10_000):
        if customer_id != customer:
            customer, placed, last = customer_id, 0, day
        placed += 1
        repeats[day, min(placed, LATER), last] += 1
        last = day
    return repeats


def difference(after, before):
    if isinstance(after, Counter):
        change = Counter(after)
        change.subtract(before)
        return Counter({key: value for key, value in change.items() if value})
    days = {}
    for day in after.keys() | before.keys():
        change = Counter(after.get(day, {}))
        change.subtract(before.get(day, {}))
        change = Counter({key: value for key, value in change.items() if value})
        if change:
            days[day] = change
    return days


def add(business, days, cells, repeats):
    """Add the changes to the stored rows: one INSERT ... ON CONFLICT DO UPDATE per table
    (per 500 rows); on PostgreSQL the changes of the tables are one statement when each
    needs one, so that the order API pays a single round trip for its upkeep."""
    now = timezone.now()
    statements = []
    if days:
        statements += upserts(
            DailyOrderSummary,
            ["day"],
            DAY_COLUMNS,
            [[day, *(days[day].get(column, 0) for column in DAY_COLUMNS)] for day in sorted(days)],
            business,
            now,
            increment=True,
        )
    if cells:
        statements += upserts(
            CohortActivity,
            ["cohort", "month"],
            ["customers"],
            [[cohort, month, n] for (cohort, month), n in sorted(cells.items())],
            business,
            now,
            increment=True,
        )
    if repeats:
        statements += upserts(
            RepeatOrderSummary,
            REPEAT_KEYS,
            ["orders"],
            [[*key, n] for key, n in sorted(repeats.items())],
            business,
            now,
            increment=True,
        )
        statements += upserts(
            RepeatOrderMonthSummary,
            REPEAT_MONTH_KEYS,
            ["orders"],
            [[*key, n] for key, n in sorted(by_month(repeats).items())],
            business,
            now,
            increment=True,
        )
    one_per_table = len(statements) == bool(days) + bool(cells) + 2 * bool(repeats)
    if connection.vendor == "postgresql" and len(statements) > 1 and one_per_table:
        # Each table's upsert a data-modifying WITH of the last one.
        *first, (last, last_params) = statements
        prefix = ", ".join(f"upkeep_{number} AS ({sql})" for number, (sql, _) in enumerate(first))
        statements = [(f"WITH {prefix} {last}", [p for _, params in first for p in params] + last_params)]
    execute(statements)


REPEAT_KEYS = ["day", "ordinal", "previous_day"]
REPEAT_MONTH_KEYS = ["month", "ordinal", "previous_day"]


def by_month(repeats):
    """{(month, ordinal, previous_day): orders} of {(day, ordinal, previous_day): orders}."""
    months = Counter()
    for (day, ordinal, previous_day), n in repeats.items():
        months[normalize.first_of_month(day), ordinal, previous_day] += n
    return Counter({key: n for key, n in months.items() if n})


def upsert(model, keys, columns, rows, business, now, *, increment, reconciled=False):
    execute(upserts(model, keys, columns, rows, business, now, increment=increment, reconciled=reconciled))


def execute(statements):
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)


def upserts(model, keys, columns, rows, business, now, *, increment, reconciled=False):
    """[(sql, params)]: INSERTs of rows of (keys..., columns...) for the business, 500 a
    statement; on conflict they add to the stored values (`increment`) or replace them."""
    ops, quote = connection.ops, connection.ops.quote_name
    table = quote(model._meta.db_table)
    stamps = ["updated_at", "reconciled_at"] if model is DailyOrderSummary else []
    names = ["business_id", *keys, *columns, *stamps]
    placeholders = "(" + ", ".join(["%s"] * len(names)) + ")"
    if increment:
        updates = [f"{quote(c)} = {table}.{quote(c)} + excluded.{quote(c)}" for c in columns]
    else:
        updates = [f"{quote(c)} = excluded.{quote(c)}" for c in columns]
    if stamps:
        updates.append("updated_at = excluded.updated_at")
        if reconciled:
            updates.append("reconciled_at = excluded.reconciled_at")
    stamp_values = [
        ops.adapt_datetimefield_value(now),
        ops.adapt_datetimefield_value(now if reconciled else None),
    ]
    statements = []
    for start in range(0, len(rows), 500):
        batch = rows[start : start + 500]
        params = []
        for row in batch:
            key_values = [
                ops.adapt_datefield_value(value) if isinstance(value, date) else value
                for value in row[: len(keys)]
            ]
            values = [
                ops.adapt_decimalfield_value(Decimal(value), 16, 2) if column in MONEY_COLUMNS else value
                for column, value in zip(columns, row[len(keys) :], strict=True)
            ]
            params += [business.pk, *key_values, *values, *stamp_values[: len(stamps)]]
        statements.append(
            (
                f"INSERT INTO {table} ({', '.join(quote(n) for n in names)}) "
                f"VALUES {', '.join([placeholders] * len(batch))} "
                f"ON CONFLICT (business_id, {', '.join(quote(k) for k in keys)}) "
                f"DO UPDATE SET {', '.join(updates)}",
                params,
            )
        )
    return statements


# Rebuilding from the orders --------------------------------------------------------------


def rebuild(business, *, first_day=None, last_day=None, report=True):
    """Set the summaries of the local days first_day..last_day (all of the business's when
    not given), and the cohort cells of their months, to what the orders say; returns the
    differences found, as [(table, key, column, stored, source)], and logs each when
    `report` (not after a bulk load, where every day differs)."""
    day_orders = month_orders = activity_orders = Order.objects.filter(business=business)
    days = DailyOrderSummary.objects.filter(business=business)
    cells = CohortActivity.objects.filter(business=business)
    # Cohort cells count a month's customers: their months are rebuilt whole.
    if first_day is not None:
        day_orders = day_orders.filter(placed_at__gte=day_start(business, first_day))
        # A spell that starts or ends on a day depends on the 90 days before it.
        activity_orders = activity_orders.filter(
            placed_at__gte=day_start(business, first_day - timedelta(days=ACTIVE_DAYS))
        )
        month_orders = month_orders.filter(
            placed_at__gte=day_start(business, normalize.first_of_month(first_day))
        )
        days = days.filter(day__gte=first_day)
        cells = cells.filter(month__gte=normalize.first_of_month(first_day))
    if last_day is not None:
        next_month = normalize.add_months(normalize.first_of_month(last_day), 1)
        day_orders = day_orders.filter(placed_at__lt=day_start(business, last_day + timedelta(days=1)))
        activity_orders = activity_orders.filter(
            placed_at__lt=day_start(business, last_day + timedelta(days=1))
        )
        month_orders = month_orders.filter(placed_at__lt=day_start(business, next_month))
        days = days.filter(day__lte=last_day)
        cells = cells.filter(month__lte=normalize.first_of_month(last_day))
    source_days = daily_figures(business, day_orders)
    for day, change in activity_figures(business, activity_orders).items():
        if (first_day is None or day >= first_day) and (last_day is None or day <= last_day):
            source_days.setdefault(day, Counter()).update(change)
    source_cells = cohort_figures(business, month_orders)
    source_repeats, repeats = repeats_of_days(business, first_day, last_day, day_orders)
    stored_days = {row.pop("day"): row for row in days.values("day", *DAY_COLUMNS)}
    stored_cells = {(c, m): n for c, m, n in cells.values_list("cohort", "month", "customers")}
    stored_repeats = {(d, o, p): n for d, o, p, n in repeats.values_list(*REPEAT_KEYS, "orders")}

    found = []
    for day in sorted(source_days.keys() | stored_days.keys()):
        for column in DAY_COLUMNS:
            stored = stored_days.get(day, {}).get(column, 0)
            source = source_days.get(day, {}).get(column, 0)
            if stored != source:
                found.append(("daily", day.isoformat(), column, stored, source))
    for key in sorted(source_cells.keys() | stored_cells.keys()):
        stored, source = stored_cells.get(key, 0), source_cells.get(key, 0)
        if stored != source:
            found.append(("cohort", f"{key[0]:%Y-%m}/{key[1]:%Y-%m}", "customers", stored, source))
    for key in sorted(source_repeats.keys() | stored_repeats.keys()):
        stored, source = stored_repeats.get(key, 0), source_repeats.get(key, 0)
        if stored != source:
            found.append(("repeat", f"{key[0]}/{key[1]}/{key[2]}", "orders", stored, source))

    now = timezone.now()
    every_day = sorted(source_days.keys() | stored_days.keys())
    upsert(
        DailyOrderSummary,
        ["day"],
        DAY_COLUMNS,
        [[day, *(source_days.get(day, {}).get(c, 0) for c in DAY_COLUMNS)] for day in every_day],
        business,
        now,
        increment=False,
        reconciled=True,
    )
    every_cell = sorted(source_cells.keys() | stored_cells.keys())
    upsert(
        CohortActivity,
        ["cohort", "month"],
        ["customers"],
        [[cohort, month, source_cells.get((cohort, month), 0)] for cohort, month in every_cell],
        business,
        now,
        increment=False,
    )
    every_repeat = sorted(source_repeats.keys() | stored_repeats.keys())
    upsert(
        RepeatOrderSummary,
        REPEAT_KEYS,
        ["orders"],
        [[*key, source_repeats.get(key, 0)] for key in every_repeat],
        business,
        now,
        increment=False,
    )
    found += rebuild_repeat_months(business, first_day, last_day)

    for table, key, column, stored, source in found if report else []:
        logger.warning(
            "Dashboard summary of business %s differed from the orders: %s %s %s stored %s, orders say %s",
            business.slug,
            table,
            key,
            column,
            stored,
            source,
        )
    return found


def rebuild_repeat_months(business, first_day, last_day):
    """Set the month rows of the months of first_day..last_day that differ from the sums of
    their (just rebuilt) repeat rows; returns the differences found, as `rebuild` does."""
    days = RepeatOrderSummary.objects.filter(business=business)
    months = RepeatOrderMonthSummary.objects.filter(business=business)
    if first_day is not None:
        days = days.filter(day__gte=normalize.first_of_month(first_day))
        months = months.filter(month__gte=normalize.first_of_month(first_day))
    if last_day is not None:
        next_month = normalize.add_months(normalize.first_of_month(last_day), 1)
        days = days.filter(day__lt=next_month)
        months = months.filter(month__lt=next_month)
    source = {
        (row["month"], row["ordinal"], row["previous_day"]): row["total"]
        for row in days.annotate(month=TruncMonth("day"))
        .values("month", "ordinal", "previous_day")
        .annotate(total=Sum("orders"))
        .order_by()
    }
    stored = {(m, o, p): n for m, o, p, n in months.values_list(*REPEAT_MONTH_KEYS, "orders")}
    changed = [
        key for key in sorted(source.keys() | stored.keys()) if stored.get(key, 0) != source.get(key, 0)
    ]
    found = [
        ("repeat month", f"{m:%Y-%m}/{o}/{p}", "orders", stored.get((m, o, p), 0), source.get((m, o, p), 0))
        for m, o, p in changed
    ]
    upsert(
        RepeatOrderMonthSummary,
        REPEAT_MONTH_KEYS,
        ["orders"],
        [[*key, source.get(key, 0)] for key in changed],
        business,
        timezone.now(),
        increment=False,
    )
    return found


def repeats_of_days(business, first_day, last_day, day_orders):
    """(the source's and the stored repeat rows of the days first_day..last_day): the
    source from every earlier order of the customers with a completed order in them."""
    stored = RepeatOrderSummary.objects.filter(business=business)
    orders = Order.objects.filter(business=business)
    if first_day is None and last_day is None:
        return repeat_figures(business, orders), stored
    ordered = day_orders.filter(status=COMPLETED).values("customer_id")
    if last_day is not None:
        orders = orders.filter(placed_at__lt=day_start(business, last_day + timedelta(days=1)))
        stored = stored.filter(day__lte=last_day)
    if first_day is not None:
        stored = stored.filter(day__gte=first_day)
    source = repeat_figures(business, orders.filter(customer_id__in=ordered))
    return Counter(
        {
            key: n
            for key, n in source.items()
            if (first_day is None or key[0] >= first_day) and (last_day is None or key[0] <= last_day)
        }
    ), stored


def reconcile_recent_days(business):
    today = local_day(business, timezone.now())
    return rebuild(business, first_day=today - timedelta(days=RECONCILED_DAYS - 1), last_day=today)
