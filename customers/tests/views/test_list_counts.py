"""The customer list says how many customers match, pages to the last page, and shows
owners the deleted customers to restore."""

import datetime as dt

import pytest
from django.db import connection
from django.db.models import IntegerField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from conftest import requires_postgres
from customers import queries, services
from customers.models import Customer, searchable

pytestmark = pytest.mark.django_db
PER_PAGE = queries.CUSTOMERS_PER_PAGE


def bulk_customers(business, count, start=0, **fields):
    """Newest first in the list's default order: customer n was created n minutes ago."""
    return Customer.objects.bulk_create(
        Customer(
            business=business,
            phone=f"+1415556{n:04d}",
            first_name=f"Person{n}",
            last_name="Bulk",
            search_text=searchable(f"Person{n}", "Bulk"),
            created_at=timezone.now() - dt.timedelta(minutes=n),
            **fields,
        )
        for n in range(start, start + count)
    )


def get_list(client, **params):
    response = client.get("/customers/", params)
    assert response.status_code == 200
    return response


@pytest.fixture
def support_client(client_for, support):
    return client_for(support)


@pytest.fixture
def small_exact_limit(monkeypatch):
    """Past 2 pages the list estimates, so that a test need not insert 10,000 customers."""
    monkeypatch.setattr(queries, "EXACT_COUNT_LIMIT", 2 * PER_PAGE)


def test_the_list_says_how_many_customers_match_and_on_which_page_of_how_many(support_client, business):
    bulk_customers(business, 2 * PER_PAGE + 5)
    bulk_customers(business, 1, start=500, status="suspended")

    first = get_list(support_client)
    body = first.content.decode()
    assert first.context["page_obj"].total == queries.ResultCount(2 * PER_PAGE + 6, False, PER_PAGE)
    assert '<strong id="result-count">106 customers</strong>' in body
    assert "· Page 1 of 3" in body
    assert 'href="?page=last"' in body

    filtered = get_list(support_client, status="suspended").content.decode()
    assert '<strong id="result-count">1 customer</strong>' in filtered and "Page 1 of 1" in filtered


def test_the_last_page_link_opens_the_last_page_of_an_exact_count(support_client, business):
    customers = bulk_customers(business, 2 * PER_PAGE + 5)
    page = get_list(support_client, page="last").context["page_obj"]
    assert (page.number, page.page_count, page.has_next, page.has_previous) == (3, 3, False, True)
    assert [c.pk for c in page] == [c.pk for c in customers[2 * PER_PAGE :]]


def test_an_empty_list_counts_none_and_its_last_page_is_the_first(support_client, business):
    page = get_list(support_client, page="last").context["page_obj"]
    assert (page.number, page.total.value, list(page)) == (1, 0, [])


@requires_postgres
def test_past_the_exact_limit_the_count_is_postgresql_s_estimate_marked_as_such(
    support_client, business, small_exact_limit
):
    bulk_customers(business, 3 * PER_PAGE)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    response = get_list(support_client, o="name")
    total = response.context["page_obj"].total
    assert total.estimated and 2 * PER_PAGE < total.value < 6 * PER_PAGE
    body = response.content.decode()
    assert f"About {total.value} customers (estimate)" in body
    assert f"Page 1 of about {total.pages}" in body


@requires_postgres
def test_the_last_page_of_an_estimate_holds_the_last_customers_in_the_list_s_order(
    support_client, business, small_exact_limit
):
    customers = bulk_customers(business, 3 * PER_PAGE + 7)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    for params, expected in (
        ({}, customers[-PER_PAGE:]),
        ({"o": "created"}, customers[::-1][-PER_PAGE:]),
        # No orders: the id decides, highest first.
        ({"o": "-last_order"}, sorted(customers, key=lambda c: -c.pk)[-PER_PAGE:]),
    ):
        page = get_list(support_client, page="last", **params).context["page_obj"]
        assert page.total.estimated and not page.has_next and page.has_previous
        assert page.number == page.page_count
        assert [c.pk for c in page] == [c.pk for c in expected], params


@requires_postgres
def test_a_count_that_takes_too_long_is_given_up_and_leaves_the_timeout_as_it_was(business):
    bulk_customers(business, 3)
    slept = RawSQL("(SELECT 1 FROM pg_sleep(0.3))", [], output_field=IntegerField())
    slow = Customer.objects.annotate(slept=slept).filter(slept=1)
    assert queries.count_within_timeout(Customer.objects.all()) == 3
    assert queries.count_within_timeout(slow) is None
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"
    assert Customer.objects.count() == 3  # the transaction goes on


@requires_postgres
def test_a_list_whose_count_times_out_shows_the_estimate(support_client, business, monkeypatch):
    bulk_customers(business, 2 * PER_PAGE)
    monkeypatch.setattr(queries, "count_within_timeout", lambda queryset: None)
    total = get_list(support_client).context["page_obj"].total
    assert total.estimated and total.value > 0


def test_without_postgresql_s_planner_a_big_list_is_counted_exactly(
    support_client, business, small_exact_limit, monkeypatch
):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    bulk_customers(business, 3 * PER_PAGE)
    assert get_list(support_client).context["page_obj"].total == queries.ResultCount(
        3 * PER_PAGE, False, PER_PAGE
    )


def test_times_on_the_list_and_the_profile_say_their_time_zone(support_client, business):
    business.timezone = "America/New_York"
    business.save()
    [customer] = bulk_customers(business, 1)
    assert "Times in America/New_York" in get_list(support_client).content.decode()
    assert "Times in America/New_York" in support_client.get(f"/customers/{customer.pk}/").content.decode()


def test_the_search_box_is_focused_and_has_the_slash_shortcut(support_client, business):
    body = get_list(support_client).content.decode()
    assert 'type="search"' in body and 'aria-keyshortcuts="/"' in body and "autofocus" in body
    assert "<kbd>/</kbd>" in body


# Deleted customers -----------------------------------------------------------------------


@pytest.fixture
def ann_bob_and_a_merged_twin(business, owner):
    ann, bob, twin = bulk_customers(business, 3)
    services.delete_customer(customer=ann, actor=owner)
    services.merge_customers(survivor=bob, merged=[twin], reason="same person", actor=owner)
    return ann, bob, twin


def test_owners_list_the_deleted_customers_apart(client_for, owner, ann_bob_and_a_merged_twin):
    ann, bob, twin = ann_bob_and_a_merged_twin
    client = client_for(owner)
    live = get_list(client)
    assert [c.pk for c in live.context["page_obj"]] == [bob.pk]
    assert 'href="/customers/?deleted=1"' in live.content.decode()

    deleted = get_list(client, deleted="1")
    assert [c.pk for c in deleted.context["page_obj"]] == [ann.pk, twin.pk]
    body = deleted.content.decode()
    assert '<strong id="result-count">2 deleted customers</strong>' in body
    assert f'action="/customers/{ann.pk}/restore/"' in body
    assert (
        f'action="/customers/{twin.pk}/restore/"' not in body
        and f'merged into <a href="/customers/{bob.pk}/">' in body
    )
    assert '<input type="hidden" name="deleted" value="1">' in body


def test_support_never_lists_deleted_customers(support_client, ann_bob_and_a_merged_twin):
    ann, bob, twin = ann_bob_and_a_merged_twin
    response = get_list(support_client, deleted="1")
    assert [c.pk for c in response.context["page_obj"]] == [bob.pk]
    assert 'href="/customers/?deleted=1"' not in response.content.decode()


def test_an_owner_restores_a_deleted_customer_from_the_list(client_for, owner, ann_bob_and_a_merged_twin):
    ann, bob, twin = ann_bob_and_a_merged_twin
    client = client_for(owner)
    response = client.post(f"/customers/{ann.pk}/restore/", follow=True)
    assert f"{ann.display_name} was restored." in response.content.decode()
    assert [c.pk for c in get_list(client).context["page_obj"]] == [ann.pk, bob.pk]
    assert [c.pk for c in get_list(client, deleted="1").context["page_obj"]] == [twin.pk]


def test_the_list_s_queries_stay_the_same_with_deleted_customers(
    client_for, owner, business, django_assert_num_queries
):
    bulk_customers(business, PER_PAGE + 1, deleted_at=timezone.now())
    client = client_for(owner)
    get_list(client)  # the first request of a session saves it
    # session, user, membership, permissions, tag choices, segment choices (the segments
    # app's list filter), the page, its tags, the count (on PostgreSQL under a statement
    # timeout: savepoint, set it, count, reset it, release), and the privacy app's
    # access-log entry of the page
    with django_assert_num_queries(14 if connection.vendor == "postgresql" else 10):
        get_list(client, deleted="1")
