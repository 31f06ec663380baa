from collections import Counter
from decimal import Decimal
from io import StringIO

import phonenumbers
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Max, Min, Q, Sum
from django.test.utils import CaptureQueriesContext

from conftest import requires_postgres
from customers import demo, services
from customers.models import (
    Activity,
    BlacklistEntry,
    Business,
    Customer,
    CustomerAccount,
    Dropoff,
    Membership,
    Note,
    Order,
    searchable,
)

pytestmark = pytest.mark.django_db
CENT = Decimal("0.01")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def people(slug):
    """The seeded people; the few the demo anonymizes get a random token for a phone."""
    return list(
        Customer.objects.filter(business__slug=slug, anonymized_at__isnull=True)
        .order_by("phone")
        .values_list("phone", "first_name", "last_name", "email")
    )


def test_seed_demo_creates_the_business_and_three_staff_users_who_log_in_with_their_roles(client):
    output = seed("--customers", "30", "--password", "Seed-pass-123")

    business = Business.objects.get(slug="demo")
    assert (business.name, business.default_country, business.currency) == ("Demo Coffee Co.", "US", "USD")
    for role in Membership.Role:
        username = f"demo-{role.value}"
        assert username in output
        user = get_user_model().objects.get(username=username)
        assert user.is_staff
        assert Membership.objects.get(user=user).role == role
        response = client.post("/accounts/login/", {"username": username, "password": "Seed-pass-123"})
        assert response.status_code == 302, username
        assert client.session["_auth_user_id"] == str(user.pk)
        client.logout()


def test_seed_demo_generates_roughly_the_data_asked_for():
    seed("--customers", "1000", "--orders", "2500")

    business = Business.objects.get(slug="demo")
    customers = Customer.objects.filter(business=business)
    orders = Order.objects.filter(business=business)
    assert customers.count() == 1000
    assert orders.count() == 2500
    assert 450 <= CustomerAccount.objects.filter(business=business).count() <= 750
    dropoffs_per_customer = customers.annotate(n=Count("dropoffs")).values_list("n", flat=True)
    assert set(dropoffs_per_customer) <= {1, 2, 3}
    assert Dropoff.objects.filter(is_default=True).count() == 1000
    assert not orders.filter(items__isnull=True).exists()
    statuses = Counter(orders.values_list("status", flat=True))
    assert statuses["completed"] > 2000
    assert statuses["refunded"] > 0 and statuses["cancelled"] > 0
    assert Activity.objects.filter(kind=Activity.Kind.CREATED).count() == 1000
    assert 3 <= customers.filter(is_blacklisted=True).count() <= 30
    assert 50 <= customers.filter(tags__isnull=False).distinct().count() <= 200
    assert {"José", "Zoë", "Müller", "Renée", "François", "Łukasz"} & set(
        customers.values_list("first_name", flat=True).union(customers.values_list("last_name", flat=True))
    )


def test_seeded_search_text_and_address_keys_are_what_the_services_would_write():
    seed("--customers", "200")

    # The few customers the demo anonymizes keep nothing to search by.
    for customer in Customer.objects.filter(anonymized_at__isnull=True).prefetch_related("accounts"):
        account_emails = [account.email for account in customer.accounts.all() if account.email]
        expected = searchable(
            customer.first_name, customer.last_name, customer.preferred_name, customer.email, *account_emails
        )
        assert customer.search_text == expected
    for dropoff in Dropoff.objects.filter(customer__anonymized_at__isnull=True):
        assert dropoff.address_key == services.address_key(dropoff.__dict__)


def test_blacklisted_customers_have_a_history_by_the_support_user_and_their_later_orders_are_blocked():
    seed("--customers", "2000", "--orders", "6000")

    support = get_user_model().objects.get(username="demo-support")
    blacklisted = Customer.objects.filter(is_blacklisted=True)
    assert blacklisted.exists()
    for customer in blacklisted:
        latest = customer.blacklist_entries.first()
        assert latest.action == BlacklistEntry.Action.BLACKLISTED
        assert latest.actor == support and latest.note
        assert not customer.orders.filter(placed_at__gt=latest.created_at).exclude(status="blocked").exists()
    assert not Order.objects.filter(status="blocked", customer__blacklist_entries__isnull=True).exists()
    note_ids = set(Note.objects.values_list("id", flat=True))
    note_activities = Activity.objects.filter(kind=Activity.Kind.NOTE_ADDED)
    assert note_ids and {activity.data["note_id"] for activity in note_activities} == note_ids


def test_some_customers_are_the_same_person_again_under_a_second_phone():
    seed("--customers", "1000")

    emails = Counter(Customer.objects.exclude(email="").values_list("email", flat=True))
    assert any(count > 1 for count in emails.values())


def test_the_same_seed_gives_the_same_people_and_another_seed_other_people():
    seed("--business", "first", "--customers", "120", "--seed", "7")
    seed("--business", "second", "--customers", "120", "--seed", "7")
    seed("--business", "third", "--customers", "120", "--seed", "8")

    assert people("first") == people("second")
    assert [person[1:] for person in people("first")] != [person[1:] for person in people("third")]


def test_running_again_extends_the_business_without_collisions_and_resets_the_staff(client):
    seed("--customers", "150", "--password", "First-pass-1")
    seed("--customers", "150", "--password", "Second-pass-2")

    customers = Customer.objects.filter(business__slug="demo")
    assert customers.count() == 300
    assert customers.values("phone").distinct().count() == 300
    assert get_user_model().objects.filter(username__startswith="demo-").count() == 3
    assert Membership.objects.filter(business__slug="demo").count() == 3
    response = client.post("/accounts/login/", {"username": "demo-owner", "password": "Second-pass-2"})
    assert response.status_code == 302


def test_extending_skips_phones_the_business_already_has():
    business = demo.get_or_create_business("demo")
    taken = demo.phone_for_index(3)
    existing, _ = services.get_or_create_customer(business=business, phone=taken)

    seed("--customers", "10")

    # (The demo may anonymize the existing customer: its phone then is a token.)
    assert not Customer.objects.filter(business=business, phone=taken).exclude(pk=existing.pk).exists()
    assert Customer.objects.filter(business=business).count() == 11


@requires_postgres
def test_extending_looks_up_taken_phones_in_the_phone_index_never_the_trigram_index():
    seed("--customers", "300")
    business = Business.objects.get(slug="demo")
    with CaptureQueriesContext(connection) as queries:
        demo.take_phones(business, 300, demo.CHUNK_SIZE)
    (lookup,) = [query["sql"] for query in queries if "phone" in query["sql"]]

    indexes = Customer._meta.indexes
    phone_index = next(index.name for index in indexes if index.fields == ["business", "phone"])
    trigram_index = next(index.name for index in indexes if index.fields == ["phone"])
    with connection.cursor() as cursor:
        # In a big business a sequential scan, or an index on the business that leads to all
        # its customers, is dear, where here it is cheap. Without them (the dropped indexes
        # come back when the test's transaction rolls back) the planner picks between the
        # two phone indexes as it would there.
        constraints = connection.introspection.get_constraints(cursor, Customer._meta.db_table)
        for name, info in constraints.items():
            if info["index"] and not info["unique"] and name not in (phone_index, trigram_index):
                cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {lookup}")
        plan = "\n".join(line for (line,) in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    assert trigram_index not in plan
    assert phone_index in plan


def test_seeded_phones_are_valid_e164_numbers():
    seed("--customers", "200")

    for phone in Customer.objects.filter(anonymized_at__isnull=True).values_list("phone", flat=True):
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone)), phone
        assert services.normalize_phone(phone, "US") == phone
    # Every area code and exchange the generator can produce.
    for index in range(0, demo.PHONE_SPACE, demo.PHONE_SPACE // 5000):
        assert phonenumbers.is_valid_number(phonenumbers.parse(demo.phone_for_index(index)))


def test_customer_stats_equal_a_recomputation_from_completed_orders():
    seed("--customers", "500")

    completed = Q(orders__status=Order.Status.COMPLETED)
    recomputed = Customer.objects.annotate(
        count=Count("orders", filter=completed),
        spent=Sum("orders__amount", filter=completed),
        first=Min("orders__placed_at", filter=completed),
        last=Max("orders__placed_at", filter=completed),
    )
    assert recomputed.filter(count__gt=0).exists()
    for customer in recomputed:
        assert customer.order_count == customer.count
        assert customer.total_spent.quantize(CENT) == (customer.spent or Decimal(0)).quantize(CENT)
        assert (customer.first_order_at, customer.last_order_at) == (customer.first, customer.last)


def test_skip_if_exists_does_nothing_when_the_business_has_customers():
    seed("--customers", "20")

    output = seed("--customers", "500", "--skip-if-exists")

    assert "nothing to do" in output and "demo-owner" in output
    assert Customer.objects.count() == 20


def test_skip_if_exists_seeds_a_business_without_customers():
    seed("--customers", "20", "--skip-if-exists")

    assert Customer.objects.count() == 20


def test_seed_demo_builds_the_dashboard_summaries_of_its_orders():
    from customers import summaries
    from customers.models import CohortActivity, DailyOrderSummary

    seed("--customers", "300", "--orders", "900")

    business = Business.objects.get(slug="demo")
    completed = Order.objects.filter(business=business, status="completed").aggregate(
        n=Count("pk"), s=Sum("amount")
    )
    days = DailyOrderSummary.objects.filter(business=business).aggregate(n=Sum("orders"), s=Sum("revenue"))
    # SQLite sums decimals as floats: compared to the cent.
    cents = Decimal("0.01")
    assert (days["n"], days["s"].quantize(cents)) == (completed["n"], completed["s"].quantize(cents))
    assert CohortActivity.objects.filter(business=business).exists()
    assert summaries.rebuild(business) == []
