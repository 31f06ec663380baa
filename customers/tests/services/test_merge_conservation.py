import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import requires_postgres
from customers import services
from customers.models import Customer, CustomerAccount, Dropoff, MergeRecord, Note, Order

STREETS = ["1 Main St", "2 Oak Ave", "3 Elm Rd"]
STATUSES = ["completed", "completed", "pending", "cancelled"]

order_strategy = st.tuples(
    st.integers(min_value=0, max_value=9999).map(lambda cents: Decimal(cents) / 100),
    st.sampled_from(STATUSES),
    st.sampled_from([None, *STREETS]),
)
customer_strategy = st.fixed_dictionaries(
    {
        "orders": st.lists(order_strategy, max_size=4),
        "accounts": st.integers(min_value=0, max_value=2),
        "notes": st.integers(min_value=0, max_value=2),
        "tags": st.sets(st.sampled_from(["vip", "late", "b2b"])),
        "blacklisted": st.booleans(),
        "email": st.sampled_from(["", "a@example.com", "b@example.com"]),
    }
)


def build(business, actor, people):
    customers = []
    for number, person in enumerate(people):
        phone = f"+1415555{number:04d}"
        customer, _ = services.get_or_create_customer(
            business=business, phone=phone, first_name=f"P{number}", email=person["email"]
        )
        for position, (amount, status, street) in enumerate(person["orders"]):
            services.record_order(
                business=business,
                external_id=f"{number}-{position}",
                phone=phone,
                amount=amount,
                status=status,
                address={"street": street, "city": "Springfield"} if street else None,
            )
        for position in range(person["accounts"]):
            services.link_account(
                business=business, phone=phone, provider="shop", external_id=f"{number}-{position}"
            )
        for position in range(person["notes"]):
            services.add_note(customer=customer, body=f"note {position}", actor=actor)
        for tag in person["tags"]:
            services.tag_customer(customer=customer, name=tag, actor=actor)
        if person["blacklisted"]:
            services.blacklist_customer(customer=customer, reason="fraud", actor=actor)
        customers.append(Customer.objects.get(pk=customer.pk))
    return customers


def totals(business):
    orders = Order.objects.filter(business=business)
    return {
        "orders": orders.count(),
        "revenue": orders.filter(status="completed").aggregate(total=Sum("amount"))["total"],
        "accounts": CustomerAccount.objects.filter(business=business).count(),
        "notes": Note.objects.filter(business=business).count(),
        "stats": Customer.objects.filter(business=business).aggregate(Sum("order_count"), Sum("total_spent")),
    }


def where_everything_is(business):
    rows = {
        "orders": Order.objects.values_list("pk", "customer_id", "dropoff_id", "original_dropoff_id"),
        "dropoffs": Dropoff.objects.values_list("pk", "customer_id", "kind", "address_key", "is_default"),
        "accounts": CustomerAccount.objects.values_list("pk", "customer_id"),
        "notes": Note.objects.values_list("pk", "customer_id"),
        "tags": Customer.tags.through.objects.values_list("customer_id", "tag_id"),
        "customers": Customer.objects.values_list(
            "pk",
            "phone",
            "first_name",
            "email",
            "is_blacklisted",
            "order_count",
            "total_spent",
            "deleted_at",
            "merged_into",
            "created_at",
            "search_text",
        ),
    }
    return {
        name: sorted(queryset.filter(business=business) if name != "tags" else queryset)
        for name, queryset in rows.items()
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    people=st.lists(customer_strategy, min_size=2, max_size=4),
    survivor_position=st.integers(min_value=0, max_value=3),
    merged_count=st.integers(min_value=1, max_value=3),
)
def test_a_merge_conserves_the_business_and_an_undo_puts_every_row_back(
    business, support, people, survivor_position, merged_count
):
    with transaction.atomic():
        customers = build(business, support, people)
        survivor = customers[survivor_position % len(customers)]
        merged = [customer for customer in customers if customer.pk != survivor.pk][:merged_count]
        before = totals(business)
        everything = where_everything_is(business)

        record = services.merge_customers(survivor=survivor, merged=merged, reason="property", actor=support)

        assert totals(business) == before
        assert Customer.objects.live().filter(business=business).count() == len(customers) - len(merged)

        services.undo_merge(record=MergeRecord.objects.get(pk=record.pk), actor=support)

        assert totals(business) == before
        assert where_everything_is(business) == everything
        transaction.set_rollback(True)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_merges_of_the_same_customer_at_once_one_wins_the_other_is_refused(business, support):
    services.record_order(business=business, external_id="A-1", phone="+14155550101", amount="10")
    services.record_order(business=business, external_id="B-1", phone="+14155550202", amount="20")
    services.record_order(business=business, external_id="C-1", phone="+14155550303", amount="30")
    first, shared, second = Customer.objects.order_by("pk")
    barrier = threading.Barrier(2)
    outcomes = []

    def merge_into(survivor):
        try:
            barrier.wait()
            services.merge_customers(survivor=survivor, merged=[shared], reason="race", actor=None)
            outcomes.append("merged")
        except ValidationError as error:
            outcomes.append(" ".join(error.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=merge_into, args=(survivor,)) for survivor in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes)[1] == "merged", outcomes
    assert f"Customer #{shared.pk} was already merged into" in sorted(outcomes)[0]
    assert MergeRecord.objects.count() == 1
    assert Order.objects.count() == 3
    assert sum(Customer.objects.values_list("order_count", flat=True)) == 3
    winner = Customer.objects.get(pk=MergeRecord.objects.get().survivor_id)
    assert winner.order_count == 2 and Customer.objects.get(pk=shared.pk).merged_into == winner


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_crosswise_merges_at_once_never_deadlock(business):
    for number in range(4):
        services.record_order(
            business=business, external_id=f"X-{number}", phone=f"+1415555010{number}", amount="5"
        )
    one, two, three, four = Customer.objects.order_by("pk")
    barrier = threading.Barrier(2)
    outcomes = []

    def merge(survivor, merged):
        try:
            barrier.wait()
            services.merge_customers(survivor=survivor, merged=merged, reason="race", actor=None)
            outcomes.append("merged")
        except ValidationError as error:
            outcomes.append(" ".join(error.messages))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=merge, args=(four, [one, two])),
        threading.Thread(target=merge, args=(one, [three, four])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes)[-1] == "merged" and "already merged" in sorted(outcomes)[0], outcomes
    assert Order.objects.count() == 4 and sum(Customer.objects.values_list("order_count", flat=True)) == 4
