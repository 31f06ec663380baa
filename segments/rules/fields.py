"""The whitelist of fields a segment rule can test, each with its type, operators and the SQL
condition it compiles to.

A field's `condition(operator, value, timeframe, context)` returns a Q over Customer for the
positive operators only: equals, in, greater_than, less_than, between, contains, is_set (with
value true), more_than_days_ago and less_than_days_ago. The compiler builds not_equals, not_in
and `is_set: false` as the exact complement (`~`) of equals, in and `is_set: true`, so every
condition must be definitely true or false for every customer, never SQL NULL: nullable
columns are guarded with IS NOT NULL and related data is tested through IN and EXISTS
subqueries.

Semantics, the same in `segments.rules.reference`:
- A customer without the value (no orders in the timeframe for avg_order_value, no lifetime
  value, no last order) matches no comparison; it matches not_equals and not_in, which are
  the complements of equals and in, and `is_set: false`.
- Text and choices compare case-insensitively (on SQLite, whose LIKE and UPPER know only
  ASCII letters, for those only); contains is a case-insensitive substring.
- between [low, high] includes both ends.
- Fields of several values per customer (city and country of any of their addresses, the
  categories, skus and sources of their counted orders, their tags) match when any value
  matches; not_equals and not_in match when none does. For tags, contains means "has the tag".
- Dates (value "YYYY-MM-DD") are days of the business's time zone: equals is that day,
  greater_than after it, less_than before it. more_than_days_ago N means before `at` - N
  days, less_than_days_ago N at or after it.
- days_since_last_order is the whole days from the last order to `at`, rounded down.
- Order figures count the orders of `Order.COUNTED_STATUSES` (completed: refunded and
  cancelled orders are not completed, so spend is net of them), placed at or after `at` minus
  the timeframe's days; lifetime figures are the customer's stored stats, which count the same.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import reduce
from operator import or_
from zoneinfo import ZoneInfo

from django.db.models import Count, DecimalField, Exists, ExpressionWrapper, F, OuterRef, Q, Sum, Value

from customers import choices
from customers.models import Customer, Dropoff, Order, OrderItem
from loyalty.models import CustomerLifetimeValue

NUMBER, MONEY, DATE, TEXT, CHOICE, TAGS, BOOLEAN = (
    "number",
    "money",
    "date",
    "text",
    "choice",
    "tags",
    "boolean",
)
TYPES = (NUMBER, MONEY, DATE, TEXT, CHOICE, TAGS, BOOLEAN)

OPERATOR_LABELS = {
    "equals": "is",
    "not_equals": "is not",
    "greater_than": "is more than",
    "less_than": "is less than",
    "between": "is between",
    "in": "is any of",
    "not_in": "is none of",
    "contains": "contains",
    "is_set": "is set",
    "more_than_days_ago": "more than … days ago",
    "less_than_days_ago": "less than … days ago",
}
# The compiler builds each of these as the complement of the positive operator beside it.
COMPLEMENTS = {"not_equals": "equals", "not_in": "in"}

TIMEFRAMES = {"last_30_days": 30, "last_90_days": 90, "last_365_days": 365, "lifetime": None}
TIMEFRAME_LABELS = {
    "last_30_days": "in the last 30 days",
    "last_90_days": "in the last 90 days",
    "last_365_days": "in the last 365 days",
    "lifetime": "ever",
}
REQUIRED, OPTIONAL, NONE = "required", "optional", "none"

OPERATORS_OF_TYPE = {
    NUMBER: ("equals", "not_equals", "greater_than", "less_than", "between"),
    MONEY: ("equals", "not_equals", "greater_than", "less_than", "between"),
    DATE: (
        "equals",
        "not_equals",
        "greater_than",
        "less_than",
        "between",
        "more_than_days_ago",
        "less_than_days_ago",
        "is_set",
    ),
    TEXT: ("equals", "not_equals", "in", "not_in", "contains", "is_set"),
    CHOICE: ("equals", "not_equals", "in", "not_in"),
    TAGS: ("contains", "in", "not_in", "is_set"),
    BOOLEAN: ("equals",),
}


@dataclass(frozen=True)
class Context:
    """What a condition needs besides the rule: whose customers, and the moment "now"."""

    business: object
    at: object

    @property
    def zone(self):
        return ZoneInfo(self.business.timezone or "UTC")

    def since(self, timeframe):
        days = TIMEFRAMES[timeframe]
        return None if days is None else self.at - timedelta(days=days)


@dataclass(frozen=True)
class Field:
    """One field of the whitelist. `condition` compiles a positive operator to a Q over
    Customer (see the module docstring); `load(business)`, when given, returns
    {customer id: value} for the reference evaluator, for fields whose data lives in
    another app."""

    name: str
    label: str
    type: str
    condition: object
    operators: tuple = ()
    timeframe: str = NONE
    choices: tuple = ()
    whole_numbers: bool = False
    nullable: bool = False
    load: object = None
    # (lowest, highest) value of a number field; by default ± grammar.MAX_NUMBER.
    bounds: tuple | None = None

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"{self.name}: unknown type {self.type}")
        operators = self.operators or OPERATORS_OF_TYPE[self.type]
        if self.nullable and "is_set" not in operators:
            operators = (*operators, "is_set")
        object.__setattr__(self, "operators", tuple(operators))

    def describe(self):
        """The field as the rule builder reads it (JSON)."""
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "operators": list(self.operators),
            "timeframe": self.timeframe,
            "choices": [list(choice) for choice in self.choices],
            "whole_numbers": self.whole_numbers,
            "bounds": list(self.bounds) if self.bounds else None,
        }


FIELDS = {}


def register_field(field):
    """Adds a field to the whitelist; another app calls this in its AppConfig.ready()."""
    if field.name in FIELDS:
        raise ValueError(f"A segment field named {field.name} is already registered.")
    FIELDS[field.name] = field
    return field


def describe_fields():
    return [field.describe() for field in FIELDS.values()]


# Building blocks -------------------------------------------------------------------------


def number(value, money=False):
    return Decimal(str(value)) if money else value


def compare(column, operator, value, *, money=False):
    """A comparison of a column that is never NULL where it is used."""
    if operator == "equals":
        return Q(**{column: number(value, money)})
    if operator == "greater_than":
        return Q(**{f"{column}__gt": number(value, money)})
    if operator == "less_than":
        return Q(**{f"{column}__lt": number(value, money)})
    if operator == "between":
        low, high = value
        return Q(**{f"{column}__gte": number(low, money), f"{column}__lte": number(high, money)})
    raise ValueError(operator)


def compare_nullable(column, operator, value, *, money=False):
    not_null = Q(**{f"{column}__isnull": False})
    if operator == "is_set":
        return not_null
    return not_null & compare(column, operator, value, money=money)


def text_match(column, operator, value):
    """Case-insensitive text; `column` is never NULL (blank is empty text)."""
    if operator == "equals":
        return Q(**{f"{column}__iexact": value})
    if operator == "in":
        return reduce(or_, (Q(**{f"{column}__iexact": item}) for item in value))
    if operator == "contains":
        return Q(**{f"{column}__icontains": value})
    if operator == "is_set":
        return ~Q(**{column: ""})
    raise ValueError(operator)


def counted_orders(context, timeframe):
    orders = Order.objects.filter(business=context.business, status__in=Order.COUNTED_STATUSES)
    since = context.since(timeframe)
    return orders if since is None else orders.filter(placed_at__gte=since)


def own_number(column):
    def condition(operator, value, timeframe, context):
        return compare(column, operator, value)

    return condition


def own_choice(column):
    def condition(operator, value, timeframe, context):
        return Q(**{column: value}) if operator == "equals" else Q(**{f"{column}__in": value})

    return condition


def own_text(column):
    def condition(operator, value, timeframe, context):
        return text_match(column, operator, value)

    return condition


def own_boolean(column):
    def condition(operator, value, timeframe, context):
        return Q(**{column: value})

    return condition


def local_day_start(day, context):
    return datetime.combine(day, time.min, tzinfo=context.zone)


def own_date(column):
    def condition(operator, value, timeframe, context):
        set_ = Q(**{f"{column}__isnull": False})
        if operator == "is_set":
            return set_
        if operator == "more_than_days_ago":
            return set_ & Q(**{f"{column}__lt": context.at - timedelta(days=value)})
        if operator == "less_than_days_ago":
            return set_ & Q(**{f"{column}__gte": context.at - timedelta(days=value)})
        if operator == "between":
            low, high = (date.fromisoformat(day) for day in value)
        else:
            low = high = date.fromisoformat(value)
        start = local_day_start(low, context)
        end = local_day_start(high + timedelta(days=1), context)
        if operator == "greater_than":
            return set_ & Q(**{f"{column}__gte": end})
        if operator == "less_than":
            return set_ & Q(**{f"{column}__lt": start})
        return set_ & Q(**{f"{column}__gte": start, f"{column}__lt": end})

    return condition


def days_since_last_order(operator, value, timeframe, context):
    """Whole days since the last order >= N exactly when it was at or before at - N days."""
    set_ = Q(last_order_at__isnull=False)
    if operator == "is_set":
        return set_
    low, high = value if operator == "between" else (value, value)

    def at_least(days):
        return Q(last_order_at__lte=context.at - timedelta(days=days))

    if operator == "greater_than":
        return set_ & at_least(value + 1)
    if operator == "less_than":
        return set_ & ~at_least(value)
    return set_ & at_least(low) & ~at_least(high + 1)


def order_figure(figure):
    """total_spent, order_count or avg_order_value over the counted orders of a timeframe.

    Lifetime figures are the customer's stored stats. Over a recent timeframe a customer's
    figure is a correlated aggregate of their orders in it, which the database evaluates
    only for the customers that pass cheap tests of their stored stats first: an order in
    the timeframe means a last order at or after its start, and as amounts are never
    negative the timeframe's figure is at most the lifetime one. A customer without orders
    in the timeframe has spent 0 in 0 orders and has no average; when the test holds for
    that, the condition is "not (has orders in it and fails the test)"."""

    def lifetime(operator, value):
        if figure == "total":
            return compare("total_spent", operator, value, money=True)
        if figure == "count":
            return compare("order_count", operator, value)
        average = Q(order_count__gt=0) & average_test("total_spent", "order_count", operator, value)
        # The bound lets the total's index find the few customers of a high average.
        return at_least_lifetime("avg", *passing_bound(operator, value)) & average

    def condition(operator, value, timeframe, context):
        if timeframe == "lifetime":
            return lifetime(operator, value)
        has_orders = Q(last_order_at__gte=context.since(timeframe))
        # The customer (of the business) is the only filter: with COUNT(*), the orders'
        # partial index of (customer, placed_at, amount) answers alone.
        per_customer = (
            Order.objects.filter(
                customer=OuterRef("pk"),
                status__in=Order.COUNTED_STATUSES,
                placed_at__gte=context.since(timeframe),
            )
            .order_by()
            .values("customer_id")
            .annotate(figure_total=Sum("amount"), figure_count=Count("*"))
        )
        if figure == "total":
            test = compare("figure_total", operator, value, money=True)
        elif figure == "count":
            test = compare("figure_count", operator, value)
        else:
            test = average_test("figure_total", "figure_count", operator, value)
        holds_without = holds_without_orders(figure, operator, value)
        if figure == "count" and holds_for_any_order_count(operator, value) is not None:
            # Passes for every count from 1 up, or for none: having orders in it decides.
            holds_with = holds_for_any_order_count(operator, value)
            if holds_with == holds_without:
                return Q(pk__in=[]) if not holds_with else ~Q(pk__in=[])
            return has_orders if holds_with else ~has_orders
        if holds_without:
            failing = has_orders & at_least_lifetime(figure, *failing_bound(operator, value))
            return ~(failing & Exists(per_customer.exclude(test)))
        passing = has_orders & at_least_lifetime(figure, *passing_bound(operator, value))
        return passing & Exists(per_customer.filter(test))

    return condition


def holds_for_any_order_count(operator, value):
    """True when the count test passes for every count from 1 up, False when for none of
    them, None when it depends on the count."""
    if operator == "greater_than" and value < 1:
        return True
    if (operator == "less_than" and value <= 1) or (operator == "equals" and value < 1):
        return False
    if operator == "between" and value[1] < 1:
        return False
    return None


def passing_bound(operator, value):
    """(lookup, figure) that the lifetime figure meets whenever the timeframe's passes."""
    if operator == "greater_than":
        return "gt", value
    if operator == "equals":
        return "gte", value
    if operator == "between":
        return "gte", value[0]
    return None, None


def failing_bound(operator, value):
    """The same for a timeframe figure that fails a test which 0 passes."""
    if operator == "less_than":
        return "gte", value
    if operator == "equals":
        return "gt", value
    if operator == "between":
        return "gt", value[1]
    return None, None


def at_least_lifetime(figure, lookup, bound):
    """The lifetime stats' test implied by a timeframe's: its count is at most the lifetime
    count, its total (and so its average, of at least one order) at most the lifetime total."""
    if lookup is None:
        return Q()
    if figure == "count":
        return Q(**{f"order_count__{lookup}": bound})
    return Q(**{f"total_spent__{lookup}": number(bound, money=True)})


def average_test(total, count, operator, value):
    """total / count compared with the value, as total compared with value × count: exact,
    and free of integer division on SQLite. `count` is above 0 where it is used."""

    def times_count(amount):
        return ExpressionWrapper(
            F(count) * Value(Decimal(str(amount)), output_field=DecimalField()),
            output_field=DecimalField(),
        )

    if operator == "is_set":
        return Q()
    if operator == "between":
        low, high = value
        return Q(**{f"{total}__gte": times_count(low), f"{total}__lte": times_count(high)})
    lookup = {"equals": "exact", "greater_than": "gt", "less_than": "lt"}[operator]
    return Q(**{f"{total}__{lookup}": times_count(value)})


def holds_without_orders(figure, operator, value):
    """Whether a customer without orders in the timeframe (0 spent, 0 orders, no average) passes."""
    if figure == "avg":
        return False
    if operator == "equals":
        return value == 0
    if operator == "greater_than":
        return 0 > value
    if operator == "less_than":
        return 0 < value
    low, high = value
    return low <= 0 <= high


def tags(operator, value, timeframe, context):
    tagged = Customer.tags.through.objects.filter(tag__business=context.business)
    if operator == "contains":
        tagged = tagged.filter(tag__name__iexact=value)
    elif operator == "in":
        tagged = tagged.filter(reduce(or_, (Q(tag__name__iexact=name) for name in value)))
    return Q(pk__in=tagged.values("customer_id"))


def address_part(column):
    def condition(operator, value, timeframe, context):
        dropoffs = Dropoff.objects.filter(business=context.business).filter(
            text_match(column, operator, value)
        )
        return Q(pk__in=dropoffs.values("customer_id"))

    return condition


def ordered_item_part(column):
    def condition(operator, value, timeframe, context):
        since = context.since(timeframe)
        items = OrderItem.objects.filter(
            business=context.business,
            order__status__in=Order.COUNTED_STATUSES,
            **({} if since is None else {"order__placed_at__gte": since}),
        ).filter(text_match(column, operator, value))
        return Q(pk__in=items.values("order__customer_id"))

    return condition


def order_source(operator, value, timeframe, context):
    orders = counted_orders(context, timeframe).filter(text_match("source", operator, value))
    return Q(pk__in=orders.values("customer_id"))


def related_field(name, *, label, type, model, column, choices=(), whole_numbers=False):
    """A field whose value is a column of another app's table of at most one row per customer
    (with `customer` and `business` columns); a customer without a row, or whose row holds
    NULL, has no value. What the privacy app uses for email_opt_in and sms_opt_in."""

    def condition(operator, value, timeframe, context):
        rows = model.objects.filter(business=context.business)
        if type in (NUMBER, MONEY, DATE):
            rows = rows.filter(compare_nullable(column, operator, value, money=type == MONEY))
        elif type == BOOLEAN:
            rows = rows.filter(**{column: value})
        elif operator == "is_set":
            rows = rows.filter(**{f"{column}__isnull": False}).exclude(**{column: ""})
        else:
            rows = rows.filter(text_match(column, operator, value))
        return Q(pk__in=rows.values("customer_id"))

    def load(business):
        return dict(model.objects.filter(business=business).values_list("customer_id", column))

    return Field(
        name=name,
        label=label,
        type=type,
        condition=condition,
        choices=tuple(choices),
        whole_numbers=whole_numbers,
        nullable=True,
        load=load,
    )


# The built-in fields ---------------------------------------------------------------------

COUNTRY_CHOICES = tuple((code, code) for code, _ in choices.COUNTRIES)

for built_in in [
    Field("total_spent", "Total spent", MONEY, order_figure("total"), timeframe=REQUIRED),
    Field(
        "order_count",
        "Number of orders",
        NUMBER,
        order_figure("count"),
        timeframe=REQUIRED,
        whole_numbers=True,
    ),
    Field(
        "avg_order_value",
        "Average order value",
        MONEY,
        order_figure("avg"),
        timeframe=REQUIRED,
        nullable=True,
    ),
    Field("loyalty_points", "Loyalty points", NUMBER, own_number("points_balance"), whole_numbers=True),
    Field("tier", "Tier", CHOICE, own_choice("tier"), choices=tuple(Customer.Tier.choices)),
    Field("last_order_at", "Last order", DATE, own_date("last_order_at")),
    Field(
        "days_since_last_order",
        "Days since the last order",
        NUMBER,
        days_since_last_order,
        whole_numbers=True,
        nullable=True,
        bounds=(0, 36_500),
    ),
    Field("first_order_at", "First order", DATE, own_date("first_order_at")),
    Field("created_at", "Customer since", DATE, own_date("created_at")),
    Field("tags", "Tags", TAGS, tags),
    Field("blacklisted", "Blacklisted", BOOLEAN, own_boolean("is_blacklisted")),
    Field("status", "Status", CHOICE, own_choice("status"), choices=tuple(Customer.Status.choices)),
    Field("city", "City (any address)", TEXT, address_part("city")),
    Field(
        "country",
        "Country (any address)",
        CHOICE,
        address_part("country"),
        operators=("equals", "not_equals", "in", "not_in", "is_set"),
        choices=COUNTRY_CHOICES,
    ),
    Field(
        "language",
        "Language",
        CHOICE,
        own_text("language"),
        operators=("equals", "not_equals", "in", "not_in", "is_set"),
        choices=tuple(choices.LANGUAGES),
    ),
    Field(
        "purchased_category", "Bought from category", TEXT, ordered_item_part("category"), timeframe=REQUIRED
    ),
    Field("purchased_sku", "Bought SKU", TEXT, ordered_item_part("sku"), timeframe=REQUIRED),
    Field("source", "Ordered through (partner app)", TEXT, order_source, timeframe=OPTIONAL),
    related_field(
        "predicted_clv",
        label="Predicted value, next 365 days",
        type=MONEY,
        model=CustomerLifetimeValue,
        column="predicted_365d",
    ),
    related_field(
        "probability_alive",
        label="Probability still active",
        type=NUMBER,
        model=CustomerLifetimeValue,
        column="probability_alive",
    ),
]:
    register_field(built_in)
