from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from conftest import requires_postgres


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_bench_prints_the_orders_api_with_the_points_earn_beside_the_api_without_it():
    out = StringIO()

    try:
        call_command("bench", "--customers", "300", "--repeat", "3", "--only", "points", stdout=out)
    except CommandError:
        pytest.fail(out.getvalue())

    lines = [line for line in out.getvalue().splitlines() if line.startswith("points.")]
    assert len(lines) == 1, out.getvalue()
    assert lines[0].startswith("points.order_ingestion") and "ratio" in lines[0] and "ERROR" not in lines[0]
