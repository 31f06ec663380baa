"""A deliberately simple evaluator of segment rules in plain Python, for the tests only: the
SQL of `segments.rules.query` must select exactly the customers this one does.

`records(business, at=...)` reads the business's live customers into plain dicts with a few
simple queries; `matches(rules, record, at=...)` evaluates a rule tree on one of them, with the
semantics written out in `segments.rules.fields`' docstring, computed here from the orders
themselves rather than from the stored stats.
"""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from customers.models import Customer, Dropoff, Order, OrderItem
from segments.rules.fields import DATE, FIELDS, MONEY, NUMBER, TAGS, TIMEFRAMES
from segments.rules.grammar import clean_rules


def records(business, *, at):
    customers = list(
        Customer.objects.filter(business=business, deleted_at__isnull=True).values(
            "id", "points_balance", "tier", "status", "language", "is_blacklisted", "created_at"
        )
    )
    orders = defaultdict(list)
    for order in Order.objects.filter(business=business).values(
        "id", "customer_id", "amount", "status", "placed_at", "source"
    ):
        order["items"] = []
        orders[order["customer_id"]].append(order)
    by_id = {order["id"]: order for customer_orders in orders.values() for order in customer_orders}
    for item in OrderItem.objects.filter(business=business).values("order_id", "category", "sku"):
        by_id[item["order_id"]]["items"].append(item)
    tags = defaultdict(set)
    for customer_id, name in Customer.tags.through.objects.filter(tag__business=business).values_list(
        "customer_id", "tag__name"
    ):
        tags[customer_id].add(name)
    addresses = defaultdict(list)
    for dropoff in Dropoff.objects.filter(business=business).values("customer_id", "city", "country"):
        addresses[dropoff["customer_id"]].append(dropoff)
    loaded = {name: field.load(business) for name, field in FIELDS.items() if field.load}
    zone = ZoneInfo(business.timezone or "UTC")
    result = []
    for customer in customers:
        pk = customer["id"]
        customer.update(
            orders=orders[pk],
            tags=tags[pk],
            addresses=addresses[pk],
            zone=zone,
            loaded={name: values.get(pk) for name, values in loaded.items()},
        )
        result.append(customer)
    return result


def counted(record, timeframe, at):
    days = TIMEFRAMES[timeframe or "lifetime"]
    return [
        order
        for order in record["orders"]
        if order["status"] in Order.COUNTED_STATUSES
        and (days is None or order["placed_at"] >= at - timedelta(days=days))
    ]


def value_of(name, record, timeframe, at):
    """The field's value for the record: a number, a date-time, a bool, or for text, choice and
    tags a list of the customer's values (empty when they have none); None when not set."""
    orders = counted(record, timeframe, at)
    if name == "total_spent":
        return sum((order["amount"] for order in orders), Decimal(0))
    if name == "order_count":
        return len(orders)
    if name == "avg_order_value":
        return sum(order["amount"] for order in orders) / len(orders) if orders else None
    if name == "loyalty_points":
        return record["points_balance"]
    if name in ("tier", "status"):
        return [record[name]]
    if name == "language":
        return [record["language"]] if record["language"] else []
    placed = [order["placed_at"] for order in counted(record, None, at)]
    if name == "last_order_at":
        return max(placed, default=None)
    if name == "first_order_at":
        return min(placed, default=None)
    if name == "days_since_last_order":
        last = max(placed, default=None)
        return None if last is None else (at - last) // timedelta(days=1)
    if name == "created_at":
        return record["created_at"]
    if name == "tags":
        return sorted(record["tags"])
    if name == "blacklisted":
        return record["is_blacklisted"]
    if name in ("city", "country"):
        return [address[name] for address in record["addresses"] if address[name]]
    if name == "purchased_category":
        return [item["category"] for order in orders for item in order["items"] if item["category"]]
    if name == "purchased_sku":
        return [item["sku"] for order in orders for item in order["items"] if item["sku"]]
    if name == "source":
        return [order["source"] for order in orders if order["source"]]
    value = record["loaded"][name]
    if FIELDS[name].type not in (NUMBER, MONEY, DATE) and not isinstance(value, bool):
        return [value] if value else []
    return value


def matches(rules, record, *, at):
    return group_matches(clean_rules(rules), record, at)


def group_matches(group, record, at):
    results = [
        group_matches(item, record, at) if "rules" in item else rule_matches(item, record, at)
        for item in group["rules"]
    ]
    result = all(results) if group["operator"] == "AND" else any(results)
    return not result if group.get("negate") else result


def rule_matches(rule, record, at):
    field = FIELDS[rule["field"]]
    operator, wanted = rule["operator"], rule["value"]
    value = value_of(field.name, record, rule.get("timeframe"), at)
    if operator == "not_equals":
        return not test(field, "equals", wanted, value, record, at)
    if operator == "not_in":
        return not test(field, "in", wanted, value, record, at)
    return test(field, operator, wanted, value, record, at)


def test(field, operator, wanted, value, record, at):
    if operator == "is_set":
        has_value = bool(value) if isinstance(value, list) else value is not None
        return has_value == wanted
    if isinstance(value, list):  # text, choice, tags: any of the customer's values
        values = [text.upper() for text in value]
        if operator == "equals" or (operator == "contains" and field.type == TAGS):
            return wanted.upper() in values
        if operator == "in":
            return any(item.upper() in values for item in wanted)
        if operator == "contains":
            return any(wanted.upper() in text for text in values)
    if value is None:
        return False
    if field.type == DATE:
        if operator == "more_than_days_ago":
            return value < at - timedelta(days=wanted)
        if operator == "less_than_days_ago":
            return value >= at - timedelta(days=wanted)
        value = value.astimezone(record["zone"]).date().isoformat()
    elif field.type == MONEY:
        value = Decimal(value)
        wanted = [Decimal(str(item)) for item in wanted] if operator == "between" else Decimal(str(wanted))
    if operator == "equals":
        return value == wanted
    if operator == "greater_than":
        return value > wanted
    if operator == "less_than":
        return value < wanted
    if operator == "between":
        return wanted[0] <= value <= wanted[1]
    raise ValueError(f"{field.name} {operator}")
