from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from conftest import requires_postgres


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_bench_prints_the_clv_fit_and_scoring_beside_its_raw_summary():
    out = StringIO()

    try:
        call_command("bench", "--customers", "300", "--repeat", "1", "--only", "clv", stdout=out)
    except CommandError:
        pytest.fail(out.getvalue())

    lines = [line for line in out.getvalue().splitlines() if line.startswith("clv.")]
    assert len(lines) == 1, out.getvalue()
    assert lines[0].startswith("clv.fit_and_score") and "raw p50=" in lines[0] and "ratio" in lines[0]
    assert "customers valued" in lines[0] and "ERROR" not in lines[0]
