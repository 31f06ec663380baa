import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from customers.models import Business
from loyalty import queries, tasks
from loyalty.models import LifetimeValueFit
from loyalty.tests.cdnow import CALIBRATION_END
from loyalty.tests.services.test_clv import cdnow_business


def fit_clv(*args):
    out = StringIO()
    call_command("fit_clv", *args, stdout=out)
    return out.getvalue()


def test_fit_clv_prints_the_fit_as_one_json_object_in_days(business):
    customers = cdnow_business(business)

    printed = json.loads(fit_clv(business.slug, "--as-of", CALIBRATION_END.isoformat()))

    assert list(printed) == ["as_of", "customers", "time_unit", "bgnbd", "gamma_gamma", "model_version"]
    assert (printed["as_of"], printed["customers"], printed["time_unit"]) == ("1997-09-30", 2357, "day")
    assert list(printed["bgnbd"]) == ["r", "alpha", "a", "b", "log_likelihood"]
    assert list(printed["gamma_gamma"]) == ["p", "q", "gamma", "customers"]
    assert printed["bgnbd"]["alpha"] / 7 == pytest.approx(4.414, rel=0.01)
    assert printed["gamma_gamma"]["customers"] == 946
    assert printed["model_version"] == "bgnbd-gamma-gamma-v1"
    # The API's CLV then shows the values of that fit.
    status = queries.clv_status(customers[1])
    assert status["model_version"] == printed["model_version"]
    assert status["calculated_at"] == LifetimeValueFit.objects.get().fitted_at.isoformat()


def test_fit_clv_without_a_known_slug_or_with_a_bad_date_is_refused(business):
    with pytest.raises(CommandError, match="No business with the slug “nope”"):
        fit_clv("nope")
    with pytest.raises(CommandError, match="not a date as YYYY-MM-DD"):
        fit_clv(business.slug, "--as-of", "30/09/1997")
    assert not LifetimeValueFit.objects.exists()


def test_the_nightly_task_fits_every_business(business, other_business):
    tasks.fit_lifetime_values_everywhere()

    fitted = set(LifetimeValueFit.objects.values_list("business__slug", flat=True))
    assert fitted == set(Business.objects.values_list("slug", flat=True)) == {"acme", "globex"}
