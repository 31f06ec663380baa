"""Each reason of the duplicate scan, found where it applies and not where it does not."""

from datetime import date

import pytest

from conftest import requires_postgres
from customers import demo, duplicates, services

Reason = duplicates.Reason


def person(business, phone, first_name, last_name, *, email="", street=None, city="Springfield", born=None):
    customer, _ = services.get_or_create_customer(
        business=business,
        phone=phone,
        first_name=first_name,
        last_name=last_name,
        email=email,
        date_of_birth=born,
    )
    if street:
        address = {"street": street, "city": city, "postal_code": "12345", "country": "US"}
        services.add_address(customer=customer, address=address, actor=None)
    return customer


def reasons_between(business, customer_a, customer_b):
    pairs = duplicates.find_duplicate_pairs(business)
    return pairs.get((min(customer_a.pk, customer_b.pk), max(customer_a.pk, customer_b.pk)), set())


def test_the_same_email_in_any_case(business):
    ann = person(business, "+14155550101", "Ann", "Lee", email="ann@example.com")
    other = person(business, "+14155550202", "Bob", "Hill", email="ANN@Example.com")

    assert reasons_between(business, ann, other) == {Reason.SAME_EMAIL}


def test_an_account_email_equal_to_another_customers_email(business):
    ann = person(business, "+14155550101", "Ann", "Lee", email="ann@example.com")
    other = person(business, "+14155550202", "Bob", "Hill")
    services.link_account(business=business, phone=other.phone, provider="shop", email="Ann@example.com")

    assert reasons_between(business, ann, other) == {Reason.SAME_ACCOUNT_EMAIL}


def test_an_email_shared_by_too_many_customers_says_nothing(business):
    customers = [
        person(business, demo.phone_for_index(index), "Ann", "Lee", email="office@example.com")
        for index in range(duplicates.MAX_GROUP + 1)
    ]

    assert reasons_between(business, customers[0], customers[1]) == set()


def test_the_same_name_at_the_same_address(business):
    ann = person(business, "+14155550101", "Ann", "Lee", street="1 Main St.")
    other = person(business, "+14155550202", " ann", "LEE ", street="1 main st")

    assert reasons_between(business, ann, other) == {Reason.SAME_NAME_AND_ADDRESS}


@requires_postgres
def test_a_similar_name_at_the_same_address(business):
    jon = person(business, "+14155550101", "Jonathan", "Smith", street="9 Elm St")
    john = person(business, "+14155550202", "Johnathan", "Smith", street="9 Elm St")
    stranger = person(business, "+14155550303", "Priya", "Patel", street="9 Elm St")

    assert Reason.SIMILAR_NAME_SAME_ADDRESS in reasons_between(business, jon, john)
    assert reasons_between(business, jon, stranger) == set()


@requires_postgres
def test_a_similar_name_in_the_same_city_born_the_same_day(business):
    born = date(1990, 5, 17)
    mia = person(business, "+14155550101", "Mia", "Bauer", street="1 Oak St", born=born)
    typo = person(business, "+14155550202", "Mia", "Bauerr", street="7 Pine St", born=born)
    elsewhere = person(business, "+14155550303", "Mia", "Bauer", street="7 Pine St", city="Boston", born=born)

    assert reasons_between(business, mia, typo) >= {Reason.SIMILAR_NAME_SAME_CITY, Reason.SAME_DATE_OF_BIRTH}
    assert reasons_between(business, mia, elsewhere) == set()


@requires_postgres
def test_a_big_city_still_pairs_similar_names_born_the_same_day(business):
    born = date(1990, 5, 17)
    for index in range(duplicates.MAX_GROUP + 5):
        phone = demo.phone_for_index(index)
        person(business, phone, f"Person{index}", "Zed", street=f"{index} Elm St", born=born)
    mia = person(business, "+14155550101", "Mia", "Bauer", street="1 Oak St", born=born)
    typo = person(business, "+14155550202", "Mia", "Bauerr", street="7 Pine St", born=born)

    assert Reason.SAME_DATE_OF_BIRTH in reasons_between(business, mia, typo)


@requires_postgres
def test_a_rare_name_next_to_a_similar_one_in_the_same_city(business):
    mia = person(business, "+14155550101", "Mia", "Bauer", street="1 Oak St")
    typo = person(business, "+14155550202", "Mia", "Baeur", street="7 Pine St")
    born_apart = person(business, "+14155550303", "Mia", "Bauer", street="3 Ash St", born=date(1970, 1, 1))
    typo_born = person(business, "+14155550404", "Mia", "Baure", street="4 Ash St", born=date(1999, 1, 1))

    assert reasons_between(business, mia, typo) == {Reason.SIMILAR_NAME_SAME_CITY}
    assert reasons_between(business, born_apart, typo_born) == set()


@requires_postgres
def test_a_rare_name_among_many_namesakes_is_not_paired(business):
    namesakes = [
        person(business, demo.phone_for_index(index), "Mia", "Bauer", street=f"{index} Oak St")
        for index in range(duplicates.MAX_NAMESAKES + 1)
    ]
    typo = person(business, "+14155550202", "Mia", "Baeur", street="7 Pine St")

    assert all(reasons_between(business, namesake, typo) == set() for namesake in namesakes)


@requires_postgres
@pytest.mark.parametrize(
    "phone, other_phone, found",
    [
        ("+12125550147", "+12125550148", True),  # the last digit
        ("+12125550147", "+12125550947", True),  # inside the last six
        ("+12125550147", "+12135550147", True),  # the area code
        ("+12125550147", "+12125550158", False),  # two digits apart in one segment
        ("+12125550147", "+12135550148", False),  # two digits apart in two segments
    ],
)
def test_phones_one_digit_apart_with_similar_names(business, phone, other_phone, found):
    ann = person(business, phone, "Ann", "Lee")
    other = person(business, other_phone, "Anne", "Lee")
    stranger = person(business, "+13125550147", "Bob", "Hill")

    assert reasons_between(business, ann, other) == ({Reason.PHONE_ONE_DIGIT_APART} if found else set())
    assert reasons_between(business, ann, stranger) == set()


@requires_postgres
def test_a_run_of_consecutive_phones_is_still_searched(business):
    neighbours = [
        person(business, f"+1212555{number:04d}", "Priya", f"Patel{number}") for number in range(100, 130)
    ]
    ann = person(business, "+12125550200", "Ann", "Lee")
    anne = person(business, "+12125550201", "Anne", "Lee")

    assert reasons_between(business, ann, anne) == {Reason.PHONE_ONE_DIGIT_APART}
    assert Reason.PHONE_ONE_DIGIT_APART in reasons_between(business, neighbours[0], neighbours[1])
