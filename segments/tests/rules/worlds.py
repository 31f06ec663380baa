"""Small worlds of customers for the rule tests: strategies for hypothesis and the function
that stores one as a new business."""

import itertools
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from customers.bulk.writers import recompute_stats
from customers.models import Business, Customer, Dropoff, Order, OrderItem, Tag
from loyalty.models import CustomerLifetimeValue
from segments.rules.fields import BOOLEAN, CHOICE, DATE, MONEY, NUMBER, TAGS

AT = datetime(2026, 6, 15, 10, 30, tzinfo=UTC)
ZONES = ["UTC", "America/New_York", "Asia/Tokyo"]
TAG_NAMES = ["VIP", "gold-fan", "new"]
BUSINESS_NUMBERS = itertools.count(1)

# Offsets into the past: exactly on the timeframes' edges, and just either side of them.
AGES = [
    timedelta(0),
    timedelta(hours=5),
    timedelta(days=1),
    timedelta(days=29, hours=23),
    timedelta(days=30),
    timedelta(days=30, seconds=1),
    timedelta(days=90),
    timedelta(days=91),
    timedelta(days=365),
    timedelta(days=400, hours=13),
    timedelta(days=-2),
]
SOURCES = ["doordash", "UberEats", ""]
CATEGORIES = ["Shoes", "shoes", "Hats", ""]
SKUS = ["SKU-1", "sku-2", ""]
LANGUAGES = ["", "en", "fr"]
POINTS = [0, 10, 100, 5]
ADDRESSES = [
    (city, country) for city in ["Paris", "paris", "Berlin", "100% Town", ""] for country in ["US", "fr", ""]
]
PROBABILITIES = [None, 0.0, 0.25, 0.5, 1.0]


def amounts():
    """Multiples of 0.25: exact in SQLite's floating point too."""
    return st.integers(min_value=0, max_value=800).map(lambda quarters: Decimal(quarters) / 4)


ORDERS = st.fixed_dictionaries(
    {
        "amount": amounts(),
        "status": st.sampled_from(Order.Status.values),
        "age": st.sampled_from(AGES),
        "source": st.sampled_from(SOURCES),
        "items": st.lists(
            st.fixed_dictionaries({"category": st.sampled_from(CATEGORIES), "sku": st.sampled_from(SKUS)}),
            max_size=2,
        ),
    }
)
CUSTOMERS = st.fixed_dictionaries(
    {
        "tier": st.sampled_from(Customer.Tier.values),
        "status": st.sampled_from(Customer.Status.values),
        "language": st.sampled_from(LANGUAGES),
        "is_blacklisted": st.booleans(),
        "points_balance": st.sampled_from(POINTS),
        "age": st.sampled_from(AGES),
        "deleted": st.sampled_from([False, False, False, True]),
        "tags": st.sets(st.sampled_from(TAG_NAMES), max_size=2),
        "addresses": st.lists(st.sampled_from(ADDRESSES), max_size=2, unique=True),
        "orders": st.lists(ORDERS, max_size=3),
        "clv": st.one_of(st.none(), st.tuples(amounts(), st.sampled_from(PROBABILITIES))),
    }
)
WORLDS = st.lists(CUSTOMERS, min_size=1, max_size=5)


def fixed_world(size=40, seed=11):
    """A world drawn once from the same values, plus a customer per age with one completed
    order of 25.50 placed that long ago, so every timeframe's edge is met."""
    rng = random.Random(seed)

    def order():
        return {
            "amount": Decimal(rng.randint(0, 800)) / 4,
            "status": rng.choice(Order.Status.values),
            "age": rng.choice(AGES),
            "source": rng.choice(SOURCES),
            "items": [
                {"category": rng.choice(CATEGORIES), "sku": rng.choice(SKUS)}
                for _ in range(rng.randint(0, 2))
            ],
        }

    def customer(orders):
        return {
            "tier": rng.choice(Customer.Tier.values),
            "status": rng.choice(Customer.Status.values),
            "language": rng.choice(LANGUAGES),
            "is_blacklisted": rng.random() < 0.3,
            "points_balance": rng.choice(POINTS),
            "age": rng.choice(AGES),
            "deleted": rng.random() < 0.1,
            "tags": set(rng.sample(TAG_NAMES, rng.randint(0, 2))),
            "addresses": rng.sample(ADDRESSES, rng.randint(0, 2)),
            "orders": orders,
            "clv": rng.choice([None, (Decimal(rng.randint(0, 800)) / 4, rng.choice(PROBABILITIES))]),
        }

    world = [customer([order() for _ in range(rng.randint(0, 4))]) for _ in range(size)]
    for age in AGES:
        edge = {
            "amount": Decimal("25.50"),
            "status": Order.Status.COMPLETED,
            "age": age,
            "source": "doordash",
        }
        world.append(customer([{**edge, "items": [{"category": "Shoes", "sku": "SKU-1"}]}]))
    return world


def create_world(world, zone):
    number = next(BUSINESS_NUMBERS)
    business = Business.objects.create(name=f"B{number}", slug=f"rules-{number}", timezone=zone)
    tags = {name: Tag.objects.create(business=business, name=name) for name in TAG_NAMES}
    customers = Customer.objects.bulk_create(
        Customer(
            business=business,
            phone=f"+1415555{index:04d}",
            tier=spec["tier"],
            status=spec["status"],
            language=spec["language"],
            is_blacklisted=spec["is_blacklisted"],
            points_balance=spec["points_balance"],
            created_at=AT - spec["age"],
            deleted_at=AT if spec["deleted"] else None,
        )
        for index, spec in enumerate(world)
    )
    orders, items, dropoffs, taggings, values = [], [], [], [], []
    for customer, spec in zip(customers, world, strict=True):
        taggings += [Customer.tags.through(customer=customer, tag=tags[name]) for name in spec["tags"]]
        dropoffs += [
            Dropoff(
                business=business,
                customer=customer,
                street="1 Main St",
                city=city,
                country=country,
                address_key=f"{position}",
            )
            for position, (city, country) in enumerate(spec["addresses"])
        ]
        for position, order in enumerate(spec["orders"]):
            orders.append(
                Order(
                    business=business,
                    customer=customer,
                    external_id=f"{customer.pk}-{position}",
                    amount=order["amount"],
                    currency="USD",
                    status=order["status"],
                    placed_at=AT - order["age"],
                    source=order["source"],
                )
            )
            items.append(order["items"])
        if spec["clv"]:
            predicted, alive = spec["clv"]
            values.append(
                CustomerLifetimeValue(
                    business=business,
                    customer=customer,
                    current=0,
                    predicted_365d=predicted,
                    expected_orders_365d=1,
                    probability_alive=alive,
                    model_version="test",
                    calculated_at=AT,
                )
            )
    Order.objects.bulk_create(orders)
    OrderItem.objects.bulk_create(
        OrderItem(business=business, order=order, name="thing", price=1, **item)
        for order, order_items in zip(orders, items, strict=True)
        for item in order_items
    )
    Dropoff.objects.bulk_create(dropoffs)
    Customer.tags.through.objects.bulk_create(taggings)
    CustomerLifetimeValue.objects.bulk_create(values)
    recompute_stats([customer.pk for customer in customers])
    return business


# Values of rules, near the worlds' own values and boundaries.
DAYS = [0, 1, 29, 30, 31, 90, 365, 400]
TEXT_VALUES = {
    "city": ["paris", "PARIS", "Ber", "Lyon", "r", "%", "_aris", "0% t"],
    "purchased_category": ["shoes", "SHOES", "hat", "o"],
    "purchased_sku": ["SKU-1", "sku-2", "sku", "1"],
    "source": ["doordash", "UBEREATS", "dash", "eats", "x"],
}
CHOICE_VALUES = {"language": ["en", "FR", "de"], "country": ["US", "FR", "DE"]}
NUMBER_VALUES = {
    "order_count": [0, 1, 2, 3],
    "loyalty_points": [0, 10, 100, -5, 50],
    "probability_alive": [0, 0.25, 0.5, 0.75, 1],
}
MONEY_VALUES = [0, 20, 25.5, 50, 80.25, 100, 150, 200.75]
DAY_OFFSETS = [0, 1, 2, 30, 31, 90, 91, 365, 401, -2]


def value_pool(field):
    """The single values a rule on `field` is tried with."""
    if field.type == BOOLEAN:
        return [True, False]
    if field.type == DATE:
        return [(AT - timedelta(days=days)).date().isoformat() for days in DAY_OFFSETS]
    if field.type == MONEY:
        return MONEY_VALUES
    if field.type == NUMBER:
        return NUMBER_VALUES.get(field.name, DAYS)
    if field.type == TAGS:
        return ["VIP", "vip", "Gold-Fan", "new", "missing"]
    if field.type == CHOICE:
        return CHOICE_VALUES.get(field.name) or [value for value, _ in field.choices]
    return TEXT_VALUES[field.name]
