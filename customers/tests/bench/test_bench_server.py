import re
import shutil
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from conftest import requires_postgres
from customers.benchmarks import harness, server
from customers.models import Order

requires_wrk = pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (apt-get install -y wrk)")


def test_the_load_data_is_written_as_lua_literals():
    value = {"secret": 'a"b\\c', "ids": [1, 2], "people": ['"phone": "+1"']}

    assert server.lua(value) == r'{secret = "a\"b\\c", ids = {1, 2}, people = {"\"phone\": \"+1\""}}'


def test_without_wrk_the_http_figures_say_how_to_install_it(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    context = harness.BenchContext(business=None, users={}, customers=0, repeat=1, rng=None)

    [figure] = server.figures(context)

    assert figure.run() == f"{'http':<{harness.NAME_WIDTH}}skipped: {server.WRK_MISSING}"
    assert "apt-get install -y wrk" in server.WRK_MISSING


@requires_postgres
@pytest.mark.django_db
def test_bench_refuses_client_counts_that_are_not_whole_numbers():
    with pytest.raises(CommandError, match="--clients takes whole numbers of at least 1"):
        call_command("bench", "--clients", "8,x", stdout=StringIO())


@requires_postgres
@requires_wrk
@pytest.mark.django_db(transaction=True)
def test_the_http_figures_load_gunicorn_with_wrk_and_stop_it_afterwards():
    out = StringIO()

    call_command(
        "bench",
        *("--customers", "30", "--repeat", "1", "--only", "http"),
        *("--workers", "1", "--clients", "2", "--duration", "1"),
        stdout=out,
    )

    output = out.getvalue()
    lines = {line.split()[0]: line for line in output.splitlines() if line.startswith("http.")}
    assert set(lines) == {"http.orders.w1.c2", "http.batch.w1.c2", "http.customer.w1.c2"}, output
    orders = lines["http.orders.w1.c2"]
    ours, raw = (float(rate) for rate in re.findall(r"(\d+) req/s", orders))
    assert ours > 0 and raw > 0, orders
    assert re.findall(r"errors (\d+)", orders) == ["0", "0"] and "ratio" in orders, orders
    # The endpoints other helpers are building: measured without errors, or skipped until they exist.
    for name in ("http.batch.w1.c2", "http.customer.w1.c2"):
        errors = re.findall(r"errors (\d+)", lines[name])
        assert "skipped: endpoint not available" in lines[name] or errors == ["0", "0"], lines[name]
    # Both servers recorded orders, each through its own code, in this database.
    assert Order.objects.filter(external_id__startswith="bench-http-").count() >= ours + raw
    assert wait_for_no_other_connections(), "a gunicorn worker is still connected"


OTHER_CONNECTIONS_SQL = """
    SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
"""


def wait_for_no_other_connections(seconds=5):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(OTHER_CONNECTIONS_SQL)
            if cursor.fetchone()[0] == 0:
                return True
        time.sleep(0.1)
    return False
