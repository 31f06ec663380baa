"""Who a phone number is: normalization, merged and anonymized customers, storefront
accounts, and first orders arriving at the same moment."""

import threading
import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from conftest import requires_postgres
from customers import services
from customers.models import Customer, CustomerAccount, Dropoff, Order

US_NUMBER = "+14155550101"


@pytest.mark.parametrize(
    "written",
    [
        "+1 415 555 0101",
        "+14155550101",
        "(415) 555-0101",
        "415.555.0101",
        "415-555-0101",
        "4155550101",
        "1 (415) 555-0101",
        "1-415-555-0101",
        "  +1 (415) 555-0101  ",
        "tel:+1-415-555-0101",
    ],
)
def test_a_us_number_written_in_many_ways_is_one_e164_number(written):
    assert services.normalize_phone(written, "US") == US_NUMBER


def test_every_way_of_writing_one_number_finds_one_customer(business):
    for number, written in enumerate(["+1 415 555 0101", "(415) 555-0101", "415.555.0101", "4155550101"]):
        services.record_order(
            business=business, external_id=f"A-{number}", phone=written, amount="1", actor=None
        )

    customer = Customer.objects.get()
    assert customer.phone == US_NUMBER
    assert customer.order_count == 4


def test_a_us_international_call_prefix_is_not_read_as_part_of_the_number():
    # "001" is the international prefix of many countries but not of the US (011).
    assert services.normalize_phone("011 44 20 7946 0958", "US") == "+442079460958"
    with pytest.raises(ValidationError):
        services.normalize_phone("001 415 555 0101", "US")


def test_a_uk_business_reads_national_numbers_as_uk_numbers(other_business):
    customer, created = services.get_or_create_customer(business=other_business, phone="020 7946 0958")

    assert created and customer.phone == "+442079460958"
    assert services.normalize_phone("00 1 415 555 0101", "GB") == US_NUMBER
    assert services.normalize_phone("+1 415 555 0101", "GB") == US_NUMBER


def test_the_same_digits_read_in_another_country_are_not_a_valid_number():
    with pytest.raises(ValidationError):
        services.normalize_phone("4155550101", "GB")


@pytest.mark.parametrize(
    "written, message",
    [
        ("123", "“123” is not a valid phone number for US."),
        ("abc", "“abc” is not a phone number."),
        ("", "A phone number is required."),
        ("   ", "A phone number is required."),
        (None, "A phone number is required."),
        ("+1 555", "“+1 555” is not a valid phone number for US."),
    ],
)
def test_an_invalid_number_is_refused_with_a_clear_message_on_phone(business, written, message):
    with pytest.raises(ValidationError) as raised:
        services.get_or_create_customer(business=business, phone=written)

    assert raised.value.message_dict == {"phone": [message]}
    assert not Customer.objects.exists()


def test_one_person_is_a_separate_customer_in_each_business(business, other_business):
    mine, _ = services.get_or_create_customer(business=business, phone="+1 415 555 0101")
    theirs, created = services.get_or_create_customer(business=other_business, phone="+1 415 555 0101")

    assert created and mine.pk != theirs.pk
    assert mine.phone == theirs.phone == US_NUMBER


def merge(duplicate, survivor):
    """What a merge leaves behind (the merge service comes later)."""
    Customer.objects.filter(pk=duplicate.pk).update(merged_into=survivor, deleted_at=timezone.now())


def test_a_merged_customers_phone_resolves_to_the_survivor(business):
    survivor, _ = services.get_or_create_customer(business=business, phone="+1 415 555 0101")
    duplicate, _ = services.get_or_create_customer(business=business, phone="+1 415 555 0199")
    merge(duplicate, survivor)

    found, created = services.get_or_create_customer(business=business, phone="(415) 555-0199")
    recorded = services.record_order(
        business=business, external_id="A-1", phone="415 555 0199", amount="5", actor=None
    )

    assert found == survivor and not created
    assert recorded.order.customer == survivor and not recorded.customer_created
    assert Customer.objects.live().count() == 1


def test_a_chain_of_merges_resolves_to_the_last_survivor(business):
    first, _ = services.get_or_create_customer(business=business, phone="+1 415 555 0101")
    second, _ = services.get_or_create_customer(business=business, phone="+1 415 555 0102")
    last, _ = services.get_or_create_customer(business=business, phone="+1 415 555 0103")
    merge(first, second)
    merge(second, last)

    found, created = services.get_or_create_customer(business=business, phone="+1 415 555 0101")

    assert found == last and not created


def test_an_anonymized_customers_phone_is_not_found_so_the_person_comes_back_as_new(business):
    old, _ = services.get_or_create_customer(business=business, phone="+1 415 555 0101", first_name="Ann")
    # What anonymization leaves: the row stays (deleted_at NULL) without the phone.
    Customer.objects.filter(pk=old.pk).update(
        anonymized_at=timezone.now(), phone=f"anon-{old.pk}", first_name=""
    )

    recorded = services.record_order(
        business=business, external_id="A-1", phone="+1 415 555 0101", amount="5", actor=None
    )

    assert recorded.customer_created
    assert recorded.order.customer != old
    assert recorded.order.customer.phone == US_NUMBER


def test_an_anonymized_customer_is_not_found_even_if_the_phone_stayed(business):
    old, _ = services.get_or_create_customer(business=business, phone="+1 415 555 0101")
    Customer.objects.filter(pk=old.pk).update(anonymized_at=timezone.now(), deleted_at=timezone.now())

    new, created = services.get_or_create_customer(business=business, phone="+1 415 555 0101")

    assert created and new != old


def test_two_storefront_accounts_with_the_same_phone_link_to_one_customer(business):
    shop = services.link_account(
        business=business,
        phone="+1 415 555 0101",
        provider="shopify",
        email="ann@shop.example",
        external_id="S-1",
    )
    guest = services.link_account(
        business=business, phone="(415) 555-0101", provider="guest", email="Ann.Lee@Guest.example"
    )

    assert shop.customer_id == guest.customer_id
    customer = Customer.objects.get()
    assert customer.phone == US_NUMBER
    assert customer.accounts.count() == 2
    assert "ann@shop.example" in customer.search_text
    assert "ann.lee@guest.example" in customer.search_text


def test_linking_the_same_storefront_account_again_updates_it(business):
    services.get_or_create_customer(business=business, phone="+1 415 555 0101")
    services.link_account(
        business=business,
        phone="+1 415 555 0101",
        provider="shopify",
        email="old@shop.example",
        external_id="S-1",
    )

    services.link_account(
        business=business,
        phone="+1 415 555 0101",
        provider="shopify",
        email="new@shop.example",
        external_id="S-1",
    )

    account = CustomerAccount.objects.get()
    assert account.email == "new@shop.example"
    customer = Customer.objects.get()
    assert "new@shop.example" in customer.search_text
    assert "old@shop.example" not in customer.search_text


def run_at_once(jobs):
    """Run each job in its own thread and database connection, all released together."""
    barrier = threading.Barrier(len(jobs))
    errors = []

    def run(job):
        try:
            barrier.wait()
            job()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_first_orders_of_a_new_phone_at_the_same_moment_make_one_customer(business):
    def first_order(external_id):
        return lambda: services.record_order(
            business=business,
            external_id=external_id,
            phone="+1 415 555 0101",
            amount="10.00",
            actor=None,
        )

    run_at_once([first_order("A-1"), first_order("A-2")])

    customer = Customer.objects.get(business=business)
    assert Order.objects.filter(customer=customer).count() == 2
    assert (customer.order_count, customer.total_spent) == (2, Decimal("20.00"))
    assert Order.objects.filter(created_customer=True).count() == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_sent_while_another_adds_the_same_address_waits_for_it_and_reuses_it(business):
    customer, _ = services.get_or_create_customer(business=business, phone="+1 415 555 0101")
    address = {"street": "1 Main St", "city": "Springfield"}
    first_wrote = threading.Event()

    def batch(external_id):
        return [
            {"external_id": external_id, "phone": "+1 415 555 0101", "amount": "5.00", "address": address}
        ]

    def first():
        with transaction.atomic():
            services.record_orders(business=business, orders=batch("A-1"))
            first_wrote.set()
            # The second batch reads the customer's addresses now, before this one commits.
            time.sleep(0.5)

    def second():
        first_wrote.wait(timeout=10)
        assert [
            outcome.status for outcome in services.record_orders(business=business, orders=batch("A-2"))
        ] == [201]

    run_at_once([first, second])

    orders = Order.objects.filter(customer=customer)
    assert sorted(orders.values_list("external_id", flat=True)) == ["A-1", "A-2"]
    assert Dropoff.objects.filter(customer=customer).count() == 1
    assert {order.dropoff_id for order in orders} == {Dropoff.objects.get(customer=customer).pk}


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_batches_of_a_new_phone_with_two_addresses_at_once_make_one_customer(business):
    first_wrote = threading.Event()
    answers = {}

    def batch(external_id, street):
        return [
            {
                "external_id": external_id,
                "phone": "+1 415 555 0101",
                "amount": "5.00",
                "address": {"street": street},
            }
        ]

    def first():
        with transaction.atomic():
            answers["first"] = services.record_orders(business=business, orders=batch("A-1", "1 Main St"))
            first_wrote.set()
            # The second batch starts now, before this one commits the new customer.
            time.sleep(0.5)

    def second():
        first_wrote.wait(timeout=10)
        answers["second"] = services.record_orders(business=business, orders=batch("A-2", "9 Elm St"))

    run_at_once([first, second])

    customer = Customer.objects.get(business=business)
    assert [(o.status, o.order.created_customer) for o in answers["first"] + answers["second"]] == [
        (201, True),
        (201, False),
    ]
    assert Order.objects.filter(customer=customer).count() == 2
    assert sorted(Dropoff.objects.filter(customer=customer).values_list("street", "is_default")) == [
        ("1 Main St", True),
        ("9 Elm St", False),
    ]


@requires_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("batch_first", [True, False], ids=["batch-first", "single-order-first"])
def test_a_single_order_and_a_batch_of_one_new_phone_at_once_make_one_customer(business, batch_first):
    first_wrote = threading.Event()

    def order(external_id, street):
        address = {"street": street}
        return {"external_id": external_id, "phone": "+1 415 555 0101", "amount": "5.00", "address": address}

    def single_order(street):
        services.record_order(business=business, **order("A-1", street))

    def batch(street):
        outcomes = services.record_orders(business=business, orders=[order("A-2", street)])
        assert [outcome.status for outcome in outcomes] == [201]

    first_job, second_job = (batch, single_order) if batch_first else (single_order, batch)

    def first():
        with transaction.atomic():
            first_job("1 Main St")
            first_wrote.set()
            # The other one starts now, before this one commits the new customer.
            time.sleep(0.5)

    def second():
        first_wrote.wait(timeout=10)
        second_job("9 Elm St")

    run_at_once([first, second])

    customer = Customer.objects.get(business=business)
    assert (customer.order_count, Order.objects.filter(created_customer=True).count()) == (2, 1)
    assert sorted(Dropoff.objects.filter(customer=customer).values_list("street", "is_default")) == [
        ("1 Main St", True),
        ("9 Elm St", False),
    ]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_orders_of_one_customer_keep_the_stats_exact(business):
    customer, _ = services.get_or_create_customer(business=business, phone="+1 415 555 0101")
    address = {"street": "1 Main St", "city": "Springfield"}

    def five_orders(thread):
        def job():
            for number in range(5):
                services.record_order(
                    business=business,
                    external_id=f"T{thread}-{number}",
                    phone="+1 415 555 0101",
                    amount="1.10",
                    address=address,
                    actor=None,
                )

        return job

    run_at_once([five_orders(thread) for thread in range(10)])

    customer.refresh_from_db()
    assert customer.order_count == 50
    assert customer.total_spent == Decimal("55.00")
    assert Order.objects.filter(customer=customer).count() == 50
    assert Dropoff.objects.filter(customer=customer).count() == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_one_external_id_sent_twice_at_once_with_different_phones_leaves_no_stray_customer(business):
    def send(phone):
        return lambda: services.record_order(
            business=business,
            external_id="SAME-1",
            phone=phone,
            amount="10.00",
            actor=None,
        )

    run_at_once([send("+1 415 555 0101"), send("+1 415 555 0102")])

    order = Order.objects.get(business=business)
    assert list(Customer.objects.filter(business=business)) == [order.customer]
