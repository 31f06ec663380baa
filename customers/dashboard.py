"""The owner's dashboard figures of a date range, in the business's time zone, with the
previous period of the same length: KPIs, series per day, week or month, cohort retention
and top customers. Every figure comes from the summary tables (customers.summaries):
sums from the daily ones, distinct customers from RepeatOrderSummary (its month rows for
whole months); the top customers from the orders of the biggest spenders only.

Definitions (the page states them too): orders are counted by `placed_at` in the business
time zone; `orders` = completed orders; `revenue` = the sum of their amounts; `aov` =
revenue / orders; `active_customers` = distinct customers with a completed order in the
range; `new_customers` = customers whose first completed order ever is in the range;
`repeat_customer_rate` = the share of active customers with at least two completed orders
ever up to the range's end; `avg_orders_per_customer` = orders / active_customers;
`blocked_orders` and `refunds` = orders in the range with status blocked and refunded."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from django.core.exceptions import ValidationError
from django.db.models import Case, Count, DateField, F, Max, Q, Sum, Value, When
from django.utils import timezone

from customers import normalize
from customers.models import (
    BlacklistEntry,
    CohortActivity,
    Customer,
    DailyOrderSummary,
    Order,
    RepeatOrderMonthSummary,
    RepeatOrderSummary,
)

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366
# Ranges up to this many days are drawn per day, up to the next per week, longer per month.
DAILY_UP_TO = 62
WEEKLY_UP_TO = 182
COHORTS = 12
TOP_CUSTOMERS = 10
# The top customers are looked for among the biggest lifetime spenders, this many first,
# then twice as many each time, at most so many times (620 customers).
TOP_CANDIDATES = 20
TOP_CANDIDATE_BATCHES = 5
COMPLETED = Order.Status.COMPLETED
CENT = Decimal("0.01")
RATE = Decimal("0.0001")
# The contract's metrics, in the order of the CSV.
METRICS = [
    "revenue",
    "orders",
    "aov",
    "active_customers",
    "new_customers",
    "repeat_customer_rate",
    "avg_orders_per_customer",
    "blocked_orders",
    "refunds",
]
MONEY_METRICS = {"revenue", "aov", "refunded_amount"}
RATE_METRICS = {"repeat_customer_rate", "avg_orders_per_customer"}


@dataclass(frozen=True)
class Period:
    """Local dates, both inclusive."""

    start: date
    end: date

    @property
    def days(self):
        return (self.end - self.start).days + 1

    @property
    def previous(self):
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    @property
    def bucket(self):
        if self.days <= DAILY_UP_TO:
            return "day"
        return "week" if self.days <= WEEKLY_UP_TO else "month"

    def each_day(self):
        return [self.start + timedelta(days=n) for n in range(self.days)]


def default_period(business, today=None):
    today = today or normalize.local_day(business.timezone, timezone.now())
    return Period(today - timedelta(days=DEFAULT_DAYS - 1), today)


def parse_period(business, start, end):
    """The Period of `start` and `end` (YYYY-MM-DD texts, either blank for the default);
    ValidationError with a message per field otherwise."""
    default = default_period(business)
    errors = {}
    dates = {}
    for name, text, fallback in (("start", start, default.start), ("end", end, default.end)):
        text = (text or "").strip()
        if not text:
            dates[name] = fallback
            continue
        try:
            dates[name] = date.fromisoformat(text) if len(text) == 10 else None
        except ValueError:
            dates[name] = None
        if dates[name] is None:
            errors[name] = [f"“{text[:40]}” is not a date as YYYY-MM-DD."]
        elif not date(1970, 1, 1) <= dates[name] <= date(2099, 12, 31):
            errors[name] = ["Choose a date between 1970 and 2099."]
    if errors:
        raise ValidationError(errors)
    period = Period(dates["start"], dates["end"])
    if period.end < period.start:
        raise ValidationError({"end": ["The end comes before the start."]})
    if period.days > MAX_DAYS:
        raise ValidationError({"end": [f"Choose a range of at most {MAX_DAYS} days (3 years)."]})
    return period


def bounds(business, period):
    """The instants [from, until) of the period's local days."""
    return (
        normalize.day_start(business.timezone, period.start),
        normalize.day_start(business.timezone, period.end + timedelta(days=1)),
    )


def money(value):
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def ratio(numerator, denominator):
    if not denominator:
        return Decimal(0).quantize(RATE)
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE, rounding=ROUND_HALF_UP)


def active_in(start):
    """Of the repeat rows of days from `start` on, those counting a customer active since
    `start` (a date or an expression): first orders, and orders whose previous one came
    before it."""
    return Q(ordinal=RepeatOrderSummary.Ordinal.FIRST) | Q(previous_day__lt=start)


def completed_orders(business, since, until):
    return Order.objects.filter(
        business=business, status=COMPLETED, placed_at__gte=since, placed_at__lt=until
    )


def summary_rows(business, period):
    """{day: row} of the stored summaries of the period."""
    rows = DailyOrderSummary.objects.filter(business=business, day__gte=period.start, day__lte=period.end)
    return {
        row["day"]: row for row in rows.values("day", "orders", "activity_starts", "activity_ends", *SUMMED)
    }


SUMMED = ["revenue", "refunds", "refunded_amount", "blocked_orders", "new_customers", "address_changes"]


@dataclass(frozen=True)
class RepeatCounts:
    """Of a period: its active customers, the new ones whose second order came by its end,
    and, when asked for, the active customers of each bucket by the bucket's first day."""

    active: int
    new_with_two_orders: int
    active_per_bucket: dict


def repeat_counts(business, period, first_days=None):
    """The period's RepeatCounts in one pass over its repeat rows; with `first_days` (the
    first day in the range of each of the period's buckets, in order) per bucket too. The
    whole months of the period are read from the month rows when its buckets are months
    (or not asked for), the rest from the day rows."""
    if first_days is None or period.bucket == "month":
        first, after = whole_months(period)
    else:
        first = after = period.start
    days = RepeatOrderSummary.objects.filter(
        Q(day__lt=first) | Q(day__gte=after), business=business, day__gte=period.start, day__lte=period.end
    )
    months = RepeatOrderMonthSummary.objects.filter(business=business, month__gte=first, month__lt=after)
    sums = {
        "active": Sum("orders", filter=active_in(period.start)),
        "new_with_two_orders": Sum(
            "orders", filter=Q(ordinal=RepeatOrderSummary.Ordinal.SECOND, previous_day__gte=period.start)
        ),
    }
    if first_days is None:
        totals = [rows.aggregate(**sums) for rows in (days, months)]
        return RepeatCounts(
            sum(row["active"] or 0 for row in totals),
            sum(row["new_with_two_orders"] or 0 for row in totals),
            {},
        )
    per_bucket = [
        *days.annotate(bucket_start=first_day_of_bucket(period.bucket, first_days))
        .values("bucket_start")
        .annotate(in_bucket=Sum("orders", filter=active_in(F("bucket_start"))), **sums)
        .order_by(),
        *months.annotate(bucket_start=F("month"))
        .values("bucket_start")
        .annotate(in_bucket=Sum("orders", filter=active_in(F("month"))), **sums)
        .order_by(),
    ]
    return RepeatCounts(
        sum(row["active"] or 0 for row in per_bucket),
        sum(row["new_with_two_orders"] or 0 for row in per_bucket),
        {row["bucket_start"]: row["in_bucket"] or 0 for row in per_bucket},
    )


def whole_months(period):
    """(the first day of the period's first whole month, the first day after its last);
    the first is not before the second when it holds no whole month."""
    first = period.start if period.start.day == 1 else normalize.add_months(period.start, 1)
    return first, normalize.first_of_month(period.end + timedelta(days=1))


def first_day_of_bucket(bucket, first_days):
    """The first day in the range of a repeat row's bucket: a CASE of the few bucket bounds
    is much cheaper per row than truncating dates."""
    if bucket == "day":
        return F("day")
    return Case(
        *[When(day__lt=later, then=Value(first)) for first, later in pairwise(first_days)],
        default=Value(first_days[-1]),
        output_field=DateField(),
    )


def bucket_first_days(period):
    return sorted({max(bucket_of(day, period.bucket), period.start) for day in period.each_day()})


def kpis(business, period, repeats=None):
    """The contract's metrics of the period, plus refunded amount, address changes and
    customers blacklisted in it; `repeats` is the period's repeat_counts when read already."""
    since, until = bounds(business, period)
    totals = DailyOrderSummary.objects.filter(
        business=business, day__gte=period.start, day__lte=period.end
    ).aggregate(orders=Sum("orders"), **{column: Sum(column) for column in SUMMED})
    orders = totals["orders"] or 0
    revenue = money(totals["revenue"])
    repeats = repeats or repeat_counts(business, period)
    active = repeats.active
    # Every active customer whose first order came earlier has two orders by the end.
    new_with_one_order = (totals["new_customers"] or 0) - repeats.new_with_two_orders
    blacklisted = (
        BlacklistEntry.objects.filter(
            business=business,
            action=BlacklistEntry.Action.BLACKLISTED,
            created_at__gte=since,
            created_at__lt=until,
        )
        .values("customer_id")
        .distinct()
        .count()
    )
    return {
        "revenue": revenue,
        "orders": orders,
        "aov": money(revenue / orders) if orders else money(0),
        "active_customers": active,
        "new_customers": totals["new_customers"] or 0,
        "repeat_customer_rate": ratio(active - new_with_one_order, active),
        "avg_orders_per_customer": ratio(orders, active),
        "blocked_orders": totals["blocked_orders"] or 0,
        "refunds": totals["refunds"] or 0,
        "refunded_amount": money(totals["refunded_amount"]),
        "address_changes": totals["address_changes"] or 0,
        "blacklisted_customers": blacklisted,
    }


def change(current, previous, metric):
    """The change against the previous period: a fraction of it, or for rates the
    difference in points; None when the previous value is zero."""
    if metric in RATE_METRICS:
        return (current - previous).quantize(RATE)
    if not previous:
        return None
    return ratio(Decimal(current) - Decimal(previous), previous)


def bucket_of(day, bucket):
    if bucket == "day":
        return day
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    return normalize.first_of_month(day)


def series(business, period, active_per_bucket=None):
    """Per bucket (day, week from Monday, or month; the first and last clipped to the
    range): revenue, orders, new and returning customers, blocked orders, refunds, address
    changes; and churn at the bucket's end. `active_per_bucket` is the period's
    repeat_counts per bucket when read already."""
    bucket = period.bucket
    rows = summary_rows(business, period)
    buckets = {}
    for day in period.each_day():
        key = bucket_of(day, bucket)
        entry = buckets.setdefault(
            key,
            {
                "start": max(key, period.start),
                "end": day,
                "orders": 0,
                "revenue": Decimal(0),
                "new_customers": 0,
                "blocked_orders": 0,
                "refunds": 0,
                "address_changes": 0,
            },
        )
        entry["end"] = day
        row = rows.get(day)
        if row:
            entry["orders"] += row["orders"]
            entry["revenue"] += row["revenue"]
            for column in ("new_customers", "blocked_orders", "refunds", "address_changes"):
                entry[column] += row[column]
    entries = list(buckets.values())
    if active_per_bucket is None:
        active_per_bucket = repeat_counts(business, period, bucket_first_days(period)).active_per_bucket
    result = []
    for entry in entries:
        entry["revenue"] = money(entry["revenue"])
        entry["active_customers"] = active_per_bucket.get(entry["start"], 0)
        entry["returning_customers"] = entry["active_customers"] - entry["new_customers"]
        result.append(entry)
    add_churn(business, period, result, rows)
    return result


def add_churn(business, period, buckets, rows):
    """Churn at the end of each bucket: of the customers with a completed order by then,
    the share with none in the 90 days up to it, from the summaries' running counts of
    new customers and of active spells started and ended."""
    before = DailyOrderSummary.objects.filter(business=business, day__lt=period.start).aggregate(
        new=Sum("new_customers"), starts=Sum("activity_starts"), ends=Sum("activity_ends")
    )
    customers_so_far = before["new"] or 0
    active = (before["starts"] or 0) - (before["ends"] or 0)
    ends = {entry["end"]: entry for entry in buckets}
    for day in period.each_day():
        row = rows.get(day)
        if row:
            customers_so_far += row["new_customers"]
            active += row["activity_starts"] - row["activity_ends"]
        if day in ends:
            ends[day]["churn_rate"] = ratio(customers_so_far - active, customers_so_far)
            ends[day]["churn_customers"] = customers_so_far


def cohorts(business, period):
    """The last 12 monthly cohorts up to the range's end: per cohort its size and, for each
    month since (0 is the cohort's own month, the whole cohort), how many of it ordered and
    their share of it. Months after the range's end are None."""
    last = normalize.first_of_month(period.end)
    first = normalize.add_months(last, -(COHORTS - 1))
    cells = {
        (cohort, month): n
        for cohort, month, n in CohortActivity.objects.filter(
            business=business, cohort__gte=first, cohort__lte=last, month__lte=last
        ).values_list("cohort", "month", "customers")
    }
    rows = []
    for number in range(COHORTS):
        cohort = normalize.add_months(first, number)
        size = cells.get((cohort, cohort), 0)
        months = []
        for since in range(COHORTS):
            month = normalize.add_months(cohort, since)
            if month > last:
                months.append(None)
                continue
            count = cells.get((cohort, month), 0)
            months.append({"month": month, "customers": count, "share": ratio(count, size)})
        rows.append({"cohort": cohort, "size": size, "months": months})
    return rows


def spend_per_customer(orders):
    return (
        orders.values("customer_id")
        .order_by()
        .annotate(spent=Sum("amount"), orders=Count("*"))
        .filter(spent__gt=0)
    )


def top_customers(business, period, limit=TOP_CUSTOMERS):
    """The biggest spenders of the range, with what they spent and their orders in it.

    Nobody spends more in a range than in their lifetime: the biggest lifetime spenders are
    read first, a batch at a time, until the next ones could not reach the range's top. When
    that takes too many batches (a short range, where lifetime spend says little) the range's
    orders are grouped by customer instead; both give the same answer."""
    since, until = bounds(business, period)
    in_range = spend_per_customer(completed_orders(business, since, until))
    # The candidates are the business's customers: their orders alone, from the partial
    # index of completed orders by (customer, placed_at, amount).
    of_candidates = spend_per_customer(
        Order.objects.filter(status=COMPLETED, placed_at__gte=since, placed_at__lt=until)
    )
    spenders = (
        Customer.objects.filter(business=business, total_spent__gt=0)
        .order_by("-total_spent", "-id")
        .values_list("pk", "total_spent")
    )
    rows, read = [], 0
    for number in range(TOP_CANDIDATE_BATCHES):
        size = TOP_CANDIDATES * 2**number
        batch = list(spenders[read : read + size])
        read += size
        found = of_candidates.filter(customer_id__in=[pk for pk, _ in batch])
        rows = sorted([*rows, *found], key=lambda row: (-row["spent"], row["customer_id"]))[:limit]
        if len(batch) < size or (len(rows) == limit and batch[-1][1] < rows[-1]["spent"]):
            break
    else:
        rows = list(in_range.order_by("-spent", "customer_id")[:limit])
    customers = Customer.objects.in_bulk([row["customer_id"] for row in rows])
    return [{**row, "customer": customers[row["customer_id"]], "spent": money(row["spent"])} for row in rows]


def freshness(business):
    """When a summary last changed and was last checked against the orders."""
    return DailyOrderSummary.objects.filter(business=business).aggregate(
        updated_at=Max("updated_at"), reconciled_at=Max("reconciled_at")
    )


def daily_figures(business, period):
    """[(day, revenue, orders)] of every day of the period, for the CSV and the API."""
    rows = summary_rows(business, period)
    return [
        (
            day,
            money(rows[day]["revenue"]) if day in rows else money(0),
            rows[day]["orders"] if day in rows else 0,
        )
        for day in period.each_day()
    ]


def figures(business, period):
    """Everything the dashboard shows."""
    # The period's repeat rows are read once, for its KPIs and its series alike.
    repeats = repeat_counts(business, period, bucket_first_days(period))
    current, previous = kpis(business, period, repeats), kpis(business, period.previous)
    return {
        "period": period,
        "kpis": current,
        "previous": previous,
        "changes": {metric: change(current[metric], previous[metric], metric) for metric in current},
        "series": series(business, period, repeats.active_per_bucket),
        "cohorts": cohorts(business, period),
        "top_customers": top_customers(business, period),
        "freshness": freshness(business),
        "blacklisted_now": Customer.objects.filter(business=business, is_blacklisted=True).live().count(),
    }
