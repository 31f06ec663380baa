"""The privacy figures of data subject requests for `manage.py bench`: the data export and the
anonymization of a customer with 10,000 orders, the profile with its access-log entry beside
the same page without it, and the nightly retention run over 100,000 expired deleted customers.
The customers they use are made here, in a business of their own, so the bench business keeps
its data."""

import secrets
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from customers.benchmarks.harness import Figure, fetch
from customers.models import Activity, Business, Customer, Membership, Order, OrderItem
from customers.signals import pii_accessed
from privacy import receivers, services
from privacy.models import DataExport
from privacy.services.exports import build_zip

ORDERS = 10_000
ANONYMIZATION_RUNS = 3
RETENTION_CUSTOMERS = 100_000
BATCH = 5_000


def bench_business():
    business, _ = Business.objects.get_or_create(slug="bench-privacy", defaults={"name": "Bench privacy"})
    return business


def customer_with_orders(business, orders=ORDERS):
    """A customer with `orders` completed orders of one item each, and their timeline entries."""
    now = timezone.now()
    customer = Customer.objects.create(
        business=business,
        phone=f"+1415{secrets.randbelow(10**7):07d}",
        first_name="Quentin",
        last_name="Marlowe",
        email="q.marlowe@example.com",
        order_count=orders,
        total_spent=Decimal("25.00") * orders,
    )
    batch = [
        Order(
            business=business,
            customer=customer,
            external_id=f"B{customer.pk}-{number}",
            amount=Decimal("25.00"),
            currency="USD",
            placed_at=now - timedelta(minutes=number),
        )
        for number in range(orders)
    ]
    Order.objects.bulk_create(batch, batch_size=BATCH)
    OrderItem.objects.bulk_create(
        (
            OrderItem(business=business, order=order, sku="P1", name="Pizza", price=Decimal("25.00"))
            for order in batch
        ),
        batch_size=BATCH,
    )
    Activity.objects.bulk_create(
        (
            Activity(
                business=business,
                customer=customer,
                kind=Activity.Kind.ORDER_RECORDED,
                data={"order_id": order.pk, "external_id": order.external_id, "amount": "25.00"},
            )
            for order in batch
        ),
        batch_size=BATCH,
    )
    return customer


def export_figure(business):
    customer = customer_with_orders(business)
    export = DataExport.objects.create(
        business=business,
        customer=customer,
        type=DataExport.Type.GDPR_FULL,
        reason="bench",
        subject_requested_at=timezone.now(),
        due_at=timezone.now(),
    )
    sql = (
        "SELECT o.*, i.* FROM customers_order o JOIN customers_orderitem i ON i.order_id = o.id "
        "WHERE o.customer_id = %s ORDER BY o.placed_at, o.id"
    )
    return Figure(
        "privacy.export_10k_orders",
        ours=lambda run: build_zip(export),
        raw=lambda run: fetch(sql, [customer.pk]),
        runs=5,
        warmup=1,
        unit="orders",
        per_run=ORDERS,
    )


def anonymization_figure(business):
    customers = [customer_with_orders(business) for _ in range(ANONYMIZATION_RUNS)]
    return Figure(
        "privacy.anonymize_10k_orders",
        ours=lambda run: services.anonymize_customers(
            business=business, customer_ids=[customers[run].pk], actor=None
        ),
        runs=ANONYMIZATION_RUNS,
        warmup=0,
    )


def profile_figure(context):
    """The profile page with the access log's INSERT beside the same page without the receiver."""
    customer = Customer.objects.filter(business=context.business).live().order_by("-order_count").first()
    client = context.client_for(context.users[Membership.Role.SUPPORT])
    url = f"/customers/{customer.pk}/"

    def without_logging(run):
        pii_accessed.disconnect(dispatch_uid="privacy.pii_accessed")
        try:
            client.get(url)
        finally:
            pii_accessed.connect(receivers.log_pii_access, dispatch_uid="privacy.pii_accessed")

    return Figure("privacy.profile_with_access_log", ours=lambda run: client.get(url), raw=without_logging)


def retention_figure(customers):
    """`customers` deleted 40 days ago, anonymized by the nightly run, in a business of their
    own (a new one each bench: a run leaves them anonymized)."""
    suffix = secrets.token_hex(3)
    business = Business.objects.create(slug=f"bench-retention-{suffix}", name=f"Bench retention {suffix}")
    deleted = timezone.now() - timedelta(days=40)
    Customer.objects.bulk_create(
        (
            Customer(
                business=business,
                phone=f"+1212{number:07d}",
                first_name="Gone",
                last_name=f"Customer{number}",
                email=f"gone{number}@example.com",
                deleted_at=deleted,
            )
            for number in range(customers)
        ),
        batch_size=BATCH,
    )
    counted = []

    def ours(run):
        counted.append(services.anonymize_expired_customers(business=business))

    return Figure(
        "privacy.retention_100k",
        ours=ours,
        runs=1,
        warmup=0,
        unit="customers",
        per_run=customers,
        note=lambda: f"{counted[-1]:,} anonymized",
    )


def figures(context):
    business = bench_business()
    if context.wants("privacy.export"):
        yield export_figure(business)
    if context.wants("privacy.anonymize"):
        yield anonymization_figure(business)
    if context.wants("privacy.profile"):
        yield profile_figure(context)
    if context.wants("privacy.retention"):
        # RETENTION_CUSTOMERS, or fewer for a smaller bench (the tests' few hundred).
        yield retention_figure(min(RETENTION_CUSTOMERS, context.customers))
