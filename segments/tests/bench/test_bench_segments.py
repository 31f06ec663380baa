from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from conftest import requires_postgres
from segments.services.presets import PRESETS


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_bench_prints_every_segment_figure_beside_its_raw_sql():
    out = StringIO()

    try:
        call_command("bench", "--customers", "300", "--repeat", "2", "--only", "segments", stdout=out)
    except CommandError:
        pytest.fail(out.getvalue())

    lines = {
        line.split("p50=")[0].strip(): line
        for line in out.getvalue().splitlines()
        if line.startswith("segments.")
    }
    expected = [f"segments.preview.{p.key}" for p in PRESETS] + [f"segments.recalc.{p.key}" for p in PRESETS]
    expected += ["segments.order_ingestion", "segments.incremental_lag", "segments.bulk_tag"]
    assert sorted(lines) == sorted(expected), out.getvalue()
    assert not [line for line in lines.values() if "ERROR" in line], out.getvalue()
    assert all("ratio" in lines[name] for name in expected if name != "segments.incremental_lag")
