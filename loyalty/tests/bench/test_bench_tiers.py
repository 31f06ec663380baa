from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from conftest import requires_postgres
from customers.signals import order_recorded

FIGURES = [
    "tiers.recalculation",
    "tiers.what_if",
    "tiers.status",
    "loyalty.profile",
    "loyalty.order_ingestion",
]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_bench_prints_every_loyalty_figure_beside_its_baseline_and_leaves_the_receivers_connected():
    connected = len(order_recorded.receivers)
    out = StringIO()

    try:
        call_command("bench", "--customers", "300", "--repeat", "2", "--only", "tiers,loyalty", stdout=out)
    except CommandError:
        pytest.fail(out.getvalue())

    lines = {
        line.split()[0]: line
        for line in out.getvalue().splitlines()
        if line.startswith(("tiers.", "loyalty."))
    }
    assert list(lines) == FIGURES, out.getvalue()
    for line in lines.values():
        assert "raw p50=" in line and "ratio" in line and "ERROR" not in line
    assert len(order_recorded.receivers) == connected
