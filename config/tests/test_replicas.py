"""Read replicas and degraded mode against a real PostgreSQL streaming replica (CI starts one
with .ci/start-replica and sets DATABASE_REPLICA_URLS): the router sends the opted-in reads
there, a request or task that wrote reads its writes from the primary while the replica lags,
the pages show the replica's data, and when the primary refuses writes the pages still read
with a banner, writes get 503 with Retry-After and /healthz names the part that is down."""

import csv
import io
import time
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg
import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from config import dashboard as page
from customers import dashboard, replicas, services
from customers.models import Business, Customer, ExportJob
from privacy.models import AccessLog
from segments.models import Segment

pytestmark = [
    pytest.mark.replica,
    pytest.mark.skipif(
        not settings.DATABASE_REPLICAS,
        reason="needs a streaming replica: bash .ci/start-replica, then set DATABASE_REPLICA_URLS",
    ),
    pytest.mark.django_db(transaction=True, databases=["default", "replica_1"]),
]

PAUSED = "Writes are paused: the primary database is unavailable; you are seeing data from a replica."
ORDER = {
    "external_id": "R-1",
    "phone": "+14155550101",
    "amount": "42.50",
    "currency": "USD",
    "placed_at": "2026-11-01T12:00:00Z",
    "status": "completed",
}


@pytest.fixture(autouse=True)
def replica(transactional_db, settings):
    """The test run made replica_1 a mirror of the primary's test database; the replica
    streams that database too, so point the alias back at the replica itself (still marked a
    mirror, so that the test's flush leaves it alone)."""
    connection = connections["replica_1"]
    mirrored = connection.settings_dict
    configured = settings.DATABASES["replica_1"]
    connection.close()
    connection.settings_dict = {
        **mirrored,
        "HOST": configured["HOST"],
        "PORT": configured["PORT"],
        "TEST": {**mirrored["TEST"], "MIRROR": "default"},
    }
    settings.REPLICA_CHECK_SECONDS = 0
    yield connection
    connection.close()
    connection.settings_dict = mirrored


def in_recovery(alias):
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return cursor.fetchone()[0]


def caught_up():
    """Wait until the replica has replayed all the primary has written."""
    assert replicas.caught_up_replica(wait_seconds=10) == "replica_1"


@contextmanager
def replication_paused():
    """The replica stops replaying: it lags behind every write from here on."""
    with connections["replica_1"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        with connections["replica_1"].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")


@contextmanager
def read_only_primary():
    """New connections to the primary's test database refuse writes, as a primary being
    failed over or out of disk does."""
    name = connections["default"].settings_dict["NAME"]
    connections["default"].close()
    with maintenance_connection() as connection:
        connection.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    try:
        yield
    finally:
        with maintenance_connection() as connection:
            connection.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
        connections["default"].close()


@contextmanager
def primary_down():
    """The primary refuses connections: nothing listens on its port any more."""
    primary = connections["default"]
    port = primary.settings_dict["PORT"]
    primary.close()
    primary.settings_dict["PORT"] = "9"
    try:
        yield
    finally:
        primary.close()
        primary.settings_dict["PORT"] = port


@contextmanager
def maintenance_connection():
    primary = connections["default"].settings_dict
    with psycopg.connect(
        host=primary["HOST"], port=primary["PORT"], user=primary["USER"], dbname="postgres", autocommit=True
    ) as connection:
        yield connection


@pytest.fixture
def customers_of(business):
    for number, name in enumerate(["Ann", "Bob", "Cleo"]):
        services.record_order(
            business=business,
            external_id=f"A-{number}",
            phone=f"+1415555010{number}",
            first_name=name,
            amount="20.00",
            placed_at=datetime(2026, 11, 2, 12, tzinfo=UTC),
            status="completed",
        )
    return business


@pytest.fixture
def api_key(business, owner):
    return services.create_api_key(business=business, name="partner", actor=owner)[1]


def test_the_opted_in_reads_go_to_the_replica_and_the_others_to_the_primary(business):
    caught_up()
    with replicas.use_replica():
        assert Business.objects.get(pk=business.pk)._state.db == "replica_1"
        assert in_recovery(Business.objects.all().db)
    assert Business.objects.get(pk=business.pk)._state.db == "default"
    assert not in_recovery(Business.objects.all().db)


def test_after_a_write_the_rest_of_the_block_reads_its_writes_from_the_primary_while_the_replica_lags():
    with replication_paused(), replicas.use_replica():
        assert Business.objects.all().db == "replica_1"
        business = Business.objects.create(name="Fresh", slug="fresh")
        assert Business.objects.all().db == "default"
        assert Business.objects.filter(pk=business.pk).exists()
        assert not Business.objects.using("replica_1").filter(pk=business.pk).exists()


def test_a_replica_that_lags_too_far_serves_no_reads(business, settings):
    settings.REPLICA_MAX_LAG_SECONDS = 0.5
    with replication_paused():
        Business.objects.create(name="Fresh", slug="fresh")
        time.sleep(1)
        assert replicas.check_health().replica_lags["replica_1"] > 0.5
        with replicas.use_replica():
            assert Business.objects.all().db == "default"


def test_a_task_starts_unpinned_and_is_pinned_by_its_first_write(business):
    replicas.task_started(sender="django_q")
    try:
        caught_up()
        with replicas.use_replica():
            assert Business.objects.all().db == "replica_1"
        Business.objects.filter(pk=business.pk).update(name="Renamed")
        with replicas.use_replica():
            assert Business.objects.all().db == "default"
    finally:
        replicas.task_finished(sender="django_q")


def test_the_customer_list_reads_from_the_replica_and_shows_its_customers(customers_of, owner, client_for):
    client = client_for(owner)
    caught_up()
    with CaptureQueriesContext(connections["replica_1"]) as on_replica:
        response = client.get("/customers/")
    assert response.status_code == 200
    assert {"Ann", "Bob", "Cleo"} <= {customer.first_name for customer in response.context["page_obj"]}
    assert any('FROM "customers_customer"' in query["sql"] for query in on_replica.captured_queries)
    # The access log entry is written on the primary.
    assert AccessLog.objects.filter(business=customers_of, actor=owner).count() == 1


@pytest.mark.parametrize(
    "role, url",
    [
        ("owner", "/"),
        ("owner", "/dashboard.csv"),
        ("support", "/customers/?q=Ann"),
        ("owner", "/loyalty/clv/"),
        ("compliance", "/privacy/access-log/"),
        ("compliance", "/privacy/consents/"),
    ],
)
def test_the_heavy_read_pages_answer_from_the_replica(customers_of, request, client_for, role, url):
    client = client_for(request.getfixturevalue(role))
    caught_up()
    with CaptureQueriesContext(connections["replica_1"]) as on_replica:
        response = client.get(url)
    assert response.status_code == 200
    assert on_replica.captured_queries


def test_the_dashboard_api_answers_the_primarys_figures_from_the_replica(customers_of, api_key):
    period = dashboard.parse_period(customers_of, "2026-11-01", "2026-11-30")
    expected = page.export_json(customers_of, period)
    caught_up()
    client_headers = {"Authorization": f"Bearer {api_key}"}
    with CaptureQueriesContext(connections["replica_1"]) as on_replica:
        response = Client().get("/api/v1/dashboard?start=2026-11-01&end=2026-11-30", headers=client_headers)
    assert response.status_code == 200
    assert response.json() == expected
    assert response.json()["metrics"]["orders"] == 3
    assert on_replica.captured_queries


def test_a_page_that_writes_then_reads_shows_its_writes_while_the_replica_lags(business, owner, client_for):
    client = client_for(owner)
    caught_up()
    with replication_paused():
        # The segments page creates the business's preset segments, then lists them.
        response = client.get("/segments/")
        assert response.status_code == 200
        presets = set(Segment.objects.filter(business=business).values_list("name", flat=True))
        assert presets
        assert {row["segment"].name for row in response.context["rows"]} == presets
        assert not Segment.objects.using("replica_1").filter(business=business).exists()


def test_after_a_write_the_browser_reads_from_the_primary_on_the_next_page(customers_of, support, client_for):
    client = client_for(support)
    ann = Customer.objects.get(business=customers_of, first_name="Ann")
    caught_up()
    with replication_paused():
        response = client.post(
            f"/customers/{ann.pk}/edit/",
            {"phone": ann.phone, "first_name": "Annabel", "last_name": "", "status": "active"},
        )
        assert response.status_code == 302
        assert response.cookies[replicas.PIN_COOKIE]["max-age"] == settings.REPLICA_PIN_SECONDS
        listed = client.get("/customers/").context["page_obj"]
        assert "Annabel" in {customer.first_name for customer in listed}
        assert Customer.objects.using("replica_1").get(pk=ann.pk).first_name == "Ann"


def test_an_export_job_reads_its_rows_from_a_replica_that_has_caught_up(customers_of, owner):
    job = ExportJob.objects.create(business=customers_of, actor=owner, kind="customers", format="csv")
    with CaptureQueriesContext(connections["replica_1"]) as on_replica:
        services.run_export_job(job.pk)
    job.refresh_from_db()
    assert (job.status, job.total_rows) == ("done", 3)
    rows = list(csv.DictReader(io.StringIO(job.file.read().decode("utf-8-sig"))))
    assert sorted(row["first_name"] for row in rows) == ["Ann", "Bob", "Cleo"]
    assert any('FROM "customers_customer"' in query["sql"] for query in on_replica.captured_queries)


def test_healthz_reports_the_primary_and_the_replicas_lag(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["task_queue"] == "ok"
    assert body["replicas"]["replica_1"]["status"] == "ok"
    assert body["replicas"]["replica_1"]["lag_seconds"] >= 0


def logged_in(user):
    client = Client()
    client.force_login(user, backend="customers.tenancy.MembershipRoleBackend")
    return client


def test_with_a_read_only_primary_pages_read_from_the_replica_and_writes_get_503(
    customers_of, owner, support, api_key
):
    clients = logged_in(owner), logged_in(support)
    caught_up()
    with read_only_primary():
        assert_degraded(*clients, customers_of, api_key, primary="read_only")


def test_with_the_primary_down_pages_still_read_from_the_replica(customers_of, owner, support, api_key):
    clients = logged_in(owner), logged_in(support)
    caught_up()
    with primary_down():
        assert_degraded(*clients, customers_of, api_key, primary="down")


def assert_degraded(owner, support, business, api_key, primary):
    response = support.get("/customers/")
    assert response.status_code == 200
    assert PAUSED in response.content.decode()
    customers = {customer.first_name: customer for customer in response.context["page_obj"]}
    assert {"Ann", "Bob", "Cleo"} <= set(customers)
    response = owner.get("/")
    assert response.status_code == 200
    assert PAUSED in response.content.decode()
    assert response.context["cards"]

    ann = customers["Ann"]
    response = support.post(f"/customers/{ann.pk}/edit/", {"phone": ann.phone, "first_name": "X"})
    assert response.status_code == 503
    assert response["Retry-After"] == str(replicas.RETRY_AFTER_SECONDS)
    assert "Nothing was changed" in response.content.decode()

    api = Client(headers={"Authorization": f"Bearer {api_key}"})
    response = api.post("/api/v1/orders", ORDER, content_type="application/json")
    assert response.status_code == 503
    assert response["Retry-After"] == str(replicas.RETRY_AFTER_SECONDS)
    assert list(response.json()["errors"]) == ["database"]
    assert api.get("/api/v1/dashboard").status_code == 200

    response = api.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["database"] == primary
    assert response.json()["replicas"]["replica_1"]["status"] == "ok"


def test_a_write_the_primary_refuses_mid_request_answers_503_and_turns_degraded_mode_on(
    customers_of, support, client_for, settings
):
    client = client_for(support)
    ann = Customer.objects.get(business=customers_of, first_name="Ann")
    settings.REPLICA_CHECK_SECONDS = 3600
    replicas.check_health()  # the process last saw the primary well
    name = connections["default"].settings_dict["NAME"]
    connections["default"].close()
    with maintenance_connection() as connection:
        connection.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    try:
        response = client.post(
            f"/customers/{ann.pk}/edit/",
            {"phone": ann.phone, "first_name": "Annabel", "last_name": "", "status": "active"},
        )
        assert response.status_code == 503
        assert PAUSED in response.content.decode()
        assert replicas.health().degraded
    finally:
        with maintenance_connection() as connection:
            connection.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
        connections["default"].close()
        replicas.check_health()
    assert Customer.objects.get(pk=ann.pk).first_name == "Ann"
