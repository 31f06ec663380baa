import random
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from conftest import requires_postgres
from customers import demo
from customers.benchmarks import harness

CUSTOMERS_FIGURES = [
    "search.phone_fragment",
    "search.phone_fragment.query",
    "search.name_fragment",
    "search.name_fragment.query",
    "search.email",
    "search.email.query",
    "list.first_page",
    "list.first_page.query",
    "list.page_200",
    "list.page_200.query",
    "profile.top_customer",
    "api.orders",
    "api.orders_with_payment",
    "api.orders_batch_100",
    "api.orders_batch",
    "dashboard.page_30d",
    "dashboard.page_12m",
    "api.orders_summary_upkeep",
]
# The server figures (with wrk installed) in seconds: test_bench_server.py checks them.
QUICK_HTTP_FIGURES = ["--workers", "1", "--clients", "2", "--duration", "1"]


@pytest.mark.skipif(connection.vendor == "postgresql", reason="checks the refusal on other databases")
def test_bench_refuses_to_run_without_postgresql():
    with pytest.raises(CommandError, match="bench needs PostgreSQL: set DATABASE_URL=postgres://"):
        call_command("bench", stdout=StringIO())


def test_percentiles_interpolate_between_the_closest_ranks():
    assert harness.percentile([0.004, 0.001, 0.003, 0.002], 0.5) == pytest.approx(0.0025)
    assert harness.percentile(range(101), 0.95) == pytest.approx(95)
    assert harness.percentile([0.007], 0.95) == 0.007


def test_a_figure_prints_ours_raw_ratio_and_extras_on_one_line():
    figure = harness.Figure("api.orders", ours=None, unit="orders")
    result = harness.Result(figure, ours=[0.004, 0.004], raw=[0.001, 0.001], queries=7)

    line = harness.format_result(result)

    assert line.startswith("api.orders ")
    assert "p50=   4.0ms p95=   4.0ms | raw p50=   1.0ms p95=   1.0ms | ratio  4.0x" in line
    assert "queries 7" in line and "250 orders/s (raw 1000/s)" in line


def test_a_failing_figure_reports_an_error_line_and_the_others_still_run():
    def broken(run):
        raise AssertionError("GET /customers/ answered 404")

    def fine(run):
        pass

    figures = [harness.Figure("broken", broken), harness.Figure("fine", fine, fine)]
    lines = []

    failures = harness.run_figures(figures, repeat=3, write=lines.append)

    assert failures == 1
    assert lines[0].startswith("broken") and "ERROR AssertionError: GET /customers/ answered 404" in lines[0]
    assert lines[1].startswith("fine") and "ratio" in lines[1]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_bench_seeds_its_business_and_prints_a_line_per_figure(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    out = StringIO()

    call_command("bench", "--customers", "300", "--repeat", "3", *QUICK_HTTP_FIGURES, stdout=out)

    output = out.getvalue()
    assert "seed: 300 customers, 1500 orders" in output
    lines = {line.split()[0]: line for line in output.splitlines() if line.strip()}
    for name in CUSTOMERS_FIGURES:
        assert name in lines, output
        assert "p50=" in lines[name] and "p95=" in lines[name] and "raw p50=" in lines[name], lines[name]
        assert "ratio" in lines[name] and "ERROR" not in lines[name]
    assert "queries" in lines["profile.top_customer"]
    assert "orders/s" in lines["api.orders"]
    assert "orders/s" in lines["api.orders_batch"] and "(raw " in lines["api.orders_batch"]
    assert "figures equal the SQL" in lines["dashboard.page_30d"]
    assert "figures equal the SQL" in lines["dashboard.page_12m"]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_bench_extends_its_business_only_up_to_the_number_asked_for():
    business = demo.get_or_create_business("bench")
    demo.generate(business, customers=40, orders=100, rng=random.Random(1))
    out = StringIO()

    call_command("bench", "--customers", "30", "--repeat", "1", *QUICK_HTTP_FIGURES, stdout=out)

    assert "seed:" not in out.getvalue()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_only_runs_the_figures_named_by_prefix():
    out = StringIO()

    call_command("bench", "--customers", "30", "--repeat", "1", "--only", "list,api", stdout=out)

    names = {line.split()[0] for line in out.getvalue().splitlines() if "p50=" in line}
    assert names == {
        "list.first_page",
        "list.first_page.query",
        "list.page_200",
        "list.page_200.query",
        "api.orders",
        "api.orders_with_payment",
        "api.orders_summary_upkeep",
        "api.orders_with_webhook",
        "api.orders_batch_100",
        "api.orders_batch",
    }
