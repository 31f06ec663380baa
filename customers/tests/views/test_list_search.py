import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import requires_postgres
from customers import services
from customers.models import Customer, Tag, searchable
from customers.queries import CUSTOMERS_PER_PAGE, EXACT_COUNT_LIMIT

pytestmark = pytest.mark.django_db


def make_customer(business, phone, *, first_name="", last_name="", email="", **fields):
    customer, _ = services.get_or_create_customer(
        business=business, phone=phone, first_name=first_name, last_name=last_name, email=email
    )
    if fields:
        Customer.objects.filter(pk=customer.pk).update(**fields)
        customer.refresh_from_db()
    return customer


def listed(client, **params):
    response = client.get("/customers/", params)
    assert response.status_code == 200
    return [customer.pk for customer in response.context["page_obj"]]


@pytest.fixture
def support_client(client_for, support):
    return client_for(support)


@pytest.fixture
def ann(business):
    return make_customer(
        business, "+14155550101", first_name="Ann", last_name="Lee", email="ann.lee@example.com"
    )


@pytest.fixture
def jose(business):
    return make_customer(
        business, "+14155550177", first_name="José", last_name="Müller", email="jm@mail.test"
    )


# Search -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["+1 (415) 555-0101", "4155550101", "415-555-0101", "0101", "5550101"])
def test_search_finds_a_phone_in_any_format_or_by_a_fragment_of_four_digits(support_client, ann, jose, text):
    assert listed(support_client, q=text) == [ann.pk]


def test_search_by_a_shared_phone_fragment_finds_every_match(support_client, ann, jose):
    assert set(listed(support_client, q="5550")) == {ann.pk, jose.pk}


def test_fewer_than_four_digits_do_not_search_phones(support_client, ann, jose):
    assert listed(support_client, q="555") == []


@pytest.mark.parametrize("text", ["jose", "JOSÉ", "MÜLLER", "muller", "José Müller", "os"])
def test_names_match_without_regard_to_case_or_accents(support_client, ann, jose, text):
    assert listed(support_client, q=text) == [jose.pk]


@pytest.mark.parametrize("text", ["ann.lee@example.com", "ANN.LEE@", "lee@exam", "example.com"])
def test_search_finds_email_fragments(support_client, ann, jose, text):
    assert listed(support_client, q=text) == [ann.pk]


def test_search_finds_storefront_account_emails(support_client, business, ann, jose):
    services.link_account(
        business=business, phone="(415) 555-0177", provider="shopify", email="Jo.Shop@Store.io"
    )
    assert listed(support_client, q="jo.shop@store.io") == [jose.pk]
    assert listed(support_client, q="store.io") == [jose.pk]


def test_an_account_moved_to_another_customer_no_longer_finds_the_first(support_client, business, ann, jose):
    services.link_account(
        business=business, phone=ann.phone, provider="shop", external_id="7", email="x@shop.io"
    )
    services.link_account(
        business=business, phone=jose.phone, provider="shop", external_id="7", email="x@shop.io"
    )
    assert listed(support_client, q="x@shop.io") == [jose.pk]


def test_phones_in_the_national_format_of_the_business_country(client_for, other_business, make_member):
    # other_business reads phones as British numbers.
    customer = make_customer(other_business, "+44 7911 123456", first_name="Ada")
    client = client_for(make_member(other_business, "support"))
    for text in ("07911 123456", "+44 7911 123456", "123456"):
        assert listed(client, q=text) == [customer.pk], text


def test_letters_without_a_decomposition_are_folded_too(support_client, business):
    soren = make_customer(business, "+14155550150", first_name="Søren", last_name="Łukasiewicz")
    assert listed(support_client, q="soren lukasiewicz") == [soren.pk]


def test_another_business_customers_never_appear(support_client, business, other_business, ann):
    twin = make_customer(other_business, "+14155550101", first_name="Ann", last_name="Lee")
    Tag.objects.create(business=other_business, name="Foreign")
    for params in ({}, {"q": "Ann"}, {"q": "0101"}, {"o": "name"}, {"city": ""}):
        assert twin.pk not in listed(support_client, **params)
    response = support_client.get("/customers/")
    assert "Foreign" not in response.content.decode()


def test_the_page_shows_the_columns(support_client, business, ann):
    vip = Tag.objects.create(business=business, name="VIP", color="#0ea5e9")
    ann.tags.add(vip)
    services.blacklist_customer(customer=ann, reason="fraud", actor=None)
    Customer.objects.filter(pk=ann.pk).update(order_count=3, total_spent=Decimal("1234.50"))
    body = support_client.get("/customers/").content.decode()
    for text in (
        f'href="/customers/{ann.pk}/"',
        "Ann Lee",
        "+14155550101",
        "ann.lee@example.com",
        "Active",
        "Blacklisted",
        'style="--tag-color: #0ea5e9"',
        "VIP",
        "1,234.50",
    ):
        assert text in body


# Filters ------------------------------------------------------------------------------


def test_filters_by_status_and_blacklist(support_client, ann, jose):
    Customer.objects.filter(pk=jose.pk).update(status=Customer.Status.SUSPENDED)
    services.blacklist_customer(customer=ann, reason="fraud", actor=None)
    assert listed(support_client, status="suspended") == [jose.pk]
    assert listed(support_client, blacklisted="yes") == [ann.pk]
    assert listed(support_client, blacklisted="no") == [jose.pk]


def test_filters_by_a_tag_of_the_business_only(support_client, business, other_business, ann, jose):
    services.tag_customer(customer=jose, name="VIP", actor=None)
    vip = Tag.objects.get(business=business, name="VIP")
    foreign = Tag.objects.create(business=other_business, name="VIP")
    assert listed(support_client, tag=vip.pk) == [jose.pk]

    response = support_client.get("/customers/", {"tag": foreign.pk})
    assert response.context["filter"].errors["tag"]
    assert list(response.context["filter"].form.fields["tag"].queryset) == [vip]


def test_filters_by_dropoff_city_and_country_in_any_case(support_client, business, ann, jose):
    services.add_address(
        customer=ann, address={"street": "1 Main St", "city": "Springfield", "country": "US"}, actor=None
    )
    services.add_address(
        customer=ann, address={"street": "2 Main St", "city": "Springfield", "country": "US"}, actor=None
    )
    services.add_address(
        customer=jose, address={"street": "1 Rue", "city": "Paris", "country": "fr"}, actor=None
    )
    assert listed(support_client, city="springfield") == [ann.pk]
    assert listed(support_client, city="SPRINGFIELD ") == [ann.pk]
    assert listed(support_client, city="Spring") == []
    assert listed(support_client, country="FR") == [jose.pk]


def test_filters_by_total_spent_and_dates(support_client, business, ann, jose):
    jan = timezone.make_aware(dt.datetime(2026, 1, 15, 23, 30))
    mar = timezone.make_aware(dt.datetime(2026, 3, 1, 0, 30))
    Customer.objects.filter(pk=ann.pk).update(total_spent=50, last_order_at=jan, created_at=jan)
    Customer.objects.filter(pk=jose.pk).update(total_spent=500, last_order_at=mar, created_at=mar)
    assert listed(support_client, spent_min="100") == [jose.pk]
    assert listed(support_client, spent_max="50") == [ann.pk]
    assert listed(support_client, last_order_from="2026-03-01") == [jose.pk]
    assert listed(support_client, last_order_to="2026-01-15") == [ann.pk]
    assert listed(support_client, created_from="2026-01-15", created_to="2026-01-15") == [ann.pk]
    assert listed(support_client, created_from="2026-01-16", created_to="2026-02-28") == []


def test_invalid_filter_values_are_form_errors_not_500(support_client, ann):
    response = support_client.get(
        "/customers/", {"spent_min": "lots", "created_from": "yesterday", "o": "bogus"}
    )
    assert response.status_code == 200
    assert set(response.context["filter"].errors) == {"spent_min", "created_from", "o"}
    assert [customer.pk for customer in response.context["page_obj"]] == [ann.pk]


# Ordering -----------------------------------------------------------------------------


@pytest.fixture
def three(business):
    days = [timezone.now() - dt.timedelta(days=n) for n in range(3)]
    return [
        make_customer(
            business,
            "+14155550111",
            first_name="Cleo",
            last_name="Adams",
            order_count=5,
            total_spent=10,
            last_order_at=None,
            created_at=days[2],
        ),
        make_customer(
            business,
            "+14155550112",
            first_name="Abe",
            last_name="Brown",
            order_count=1,
            total_spent=300,
            last_order_at=days[1],
            created_at=days[0],
        ),
        make_customer(
            business,
            "+14155550113",
            first_name="Bo",
            last_name="Brown",
            order_count=2,
            total_spent=20,
            last_order_at=days[2],
            created_at=days[1],
        ),
    ]


@pytest.mark.parametrize(
    "sort, expected",
    [
        (None, [1, 2, 0]),
        ("created", [0, 2, 1]),
        ("name", [0, 1, 2]),
        ("-name", [2, 1, 0]),
        ("-spent", [1, 2, 0]),
        ("spent", [0, 2, 1]),
        ("-orders", [0, 2, 1]),
        ("orders", [1, 2, 0]),
        ("-last_order", [1, 2, 0]),
        ("last_order", [2, 1, 0]),
    ],
)
def test_ordering_by_each_column_with_customers_without_orders_last(support_client, three, sort, expected):
    params = {"o": sort} if sort else {}
    assert listed(support_client, **params) == [three[index].pk for index in expected]


def test_column_headers_link_to_their_sort_and_flip_the_current_one(support_client, three):
    sort = support_client.get("/customers/", {"o": "-spent", "status": "active", "page": "2"}).context["sort"]
    assert sort["spent"] == {"query": "o=spent&status=active", "class": "sorted-desc"}
    assert sort["name"] == {"query": "o=name&status=active", "class": ""}
    assert sort["created"]["query"] == "o=-created&status=active"


# Paging and queries ---------------------------------------------------------------------


def bulk_customers(business, count, start=0):
    return Customer.objects.bulk_create(
        Customer(
            business=business,
            phone=f"+1415556{n:04d}",
            first_name=f"Person{n}",
            last_name="Bulk",
            search_text=searchable(f"Person{n}", "Bulk"),
            created_at=timezone.now() - dt.timedelta(minutes=n),
        )
        for n in range(start, start + count)
    )


def test_pages_of_fifty_counting_at_most_ten_thousand_and_one_rows(support_client, business):
    customers = bulk_customers(business, CUSTOMERS_PER_PAGE + 5)
    with CaptureQueriesContext(connection) as queries:
        first = support_client.get("/customers/").context["page_obj"]
        second = support_client.get("/customers/", {"page": 2}).context["page_obj"]
        past_the_end = support_client.get("/customers/", {"page": 3}).context["page_obj"]
    counts = [query["sql"] for query in queries if "COUNT(" in query["sql"].upper()]
    # The first page and the one past the end count (the last page counts itself), never past the limit.
    assert len(counts) == 2 and all(f"LIMIT {EXACT_COUNT_LIMIT + 1}" in sql for sql in counts)
    assert [c.pk for c in first] == [c.pk for c in customers[:CUSTOMERS_PER_PAGE]]
    assert (first.has_previous, first.has_next, first.next_page_number) == (False, True, 2)
    assert [c.pk for c in second] == [c.pk for c in customers[CUSTOMERS_PER_PAGE:]]
    assert (second.has_previous, second.has_next, second.previous_page_number) == (True, False, 1)
    assert list(past_the_end) == [] and past_the_end.has_previous


@pytest.mark.parametrize("page", ["0", "-3", "x", "99999999999999999999999"])
def test_odd_page_numbers_do_not_break_the_list(support_client, business, page):
    bulk_customers(business, 3)
    assert support_client.get("/customers/", {"page": page}).status_code == 200


def test_the_query_count_does_not_grow_with_the_rows(support_client, business, django_assert_num_queries):
    tags = [Tag.objects.create(business=business, name=f"T{n}") for n in range(3)]
    one = bulk_customers(business, 1)
    one[0].tags.set(tags)
    # session, user, membership (with the switchable businesses), permissions, tag choices,
    # the segment choices (the segments app's list filter), the page, its tags, the privacy
    # app's access-log entry of the page
    with django_assert_num_queries(9):
        support_client.get("/customers/")
    for customer in bulk_customers(business, CUSTOMERS_PER_PAGE, start=1):
        customer.tags.set(tags)
    # and, with more than a page, the count (bounded at EXACT_COUNT_LIMIT + 1 rows, under a
    # statement timeout: savepoint, set it, count, reset it, release)
    with django_assert_num_queries(14 if connection.vendor == "postgresql" else 10):
        response = support_client.get("/customers/", {"q": "bulk", "o": "name"})
    assert len(response.context["page_obj"]) == CUSTOMERS_PER_PAGE


def test_deleted_customers_are_not_listed(support_client, ann, jose):
    services.delete_customer(customer=ann, actor=None)
    assert listed(support_client) == [jose.pk]


# PostgreSQL: the search uses the trigram indexes ---------------------------------------


def list_sql(client, **params):
    with CaptureQueriesContext(connection) as queries:
        client.get("/customers/", params)
    return next(q["sql"] for q in queries if 'FROM "customers_customer"' in q["sql"] and "LIKE" in q["sql"])


@requires_postgres
def test_search_uses_the_trigram_indexes_not_a_table_scan(support_client, business):
    # At 2,000 rows the table fits in ~50 pages and a sequential scan is rightly the
    # cheapest plan; at 10,000 an index pays off, as it does on any real business.
    first_names = ["Ann", "José", "Zoë", "Li", "Marta", "Øyvind", "Priya", "Kwame"]
    last_names = ["Lee", "Müller", "García", "Nakamura", "Okafor", "Smith", "Dubois", "Novák"]
    customers = [
        Customer(
            business=business,
            phone=f"+1212{n:07d}",
            first_name=first_names[n % 8],
            last_name=last_names[n // 8 % 8],
            email=f"person{n}@example.com",
            search_text=searchable(first_names[n % 8], last_names[n // 8 % 8], f"person{n}@example.com"),
        )
        for n in range(10_000)
    ]
    customers.append(
        Customer(
            business=business,
            phone="+14155550101",
            first_name="Søren",
            last_name="Kierkegaard",
            email="soren@example.org",
            search_text=searchable("Søren", "Kierkegaard", "soren@example.org"),
        )
    )
    Customer.objects.bulk_create(customers)
    with connection.cursor() as cursor:
        # Autovacuum keeps a live table's GIN pending lists short; these fresh rows still sit
        # in them, which the planner would price as scanning them all.
        cursor.execute("SELECT gin_clean_pending_list('customer_search_trgm')")
        cursor.execute("SELECT gin_clean_pending_list('customer_phone_trgm')")
        cursor.execute("ANALYZE customers_customer")
        for text in ("555-0101", "KIERKEGAARD", "person1234@example.com"):
            assert listed(support_client, q=text)
            cursor.execute("EXPLAIN " + list_sql(support_client, q=text))
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Seq Scan on customers_customer" not in plan, plan
            assert "customer_search_trgm" in plan, plan
            if text == "555-0101":
                assert "customer_phone_trgm" in plan, plan
