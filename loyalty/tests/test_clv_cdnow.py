"""The lifetime value models reproduce the published results on the CDNOW sample: BG/NBD of
Fader, Hardie and Lee (2005) and Gamma-Gamma of Fader and Hardie (2013)."""

import pytest

from loyalty import clv
from loyalty.tests.cdnow import calibration_summary

BGNBD_PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GAMMA_GAMMA_PUBLISHED = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@pytest.fixture(scope="module")
def weeks():
    return calibration_summary(unit_days=7)


def test_the_sample_has_the_papers_2357_customers_of_whom_946_bought_again(weeks):
    frequency = weeks[0]
    assert len(frequency) == 2357
    assert sum(1 for x in frequency if x > 0) == 946


def test_bgnbd_fitted_on_the_cdnow_weeks_gives_the_published_parameters_within_one_percent(weeks):
    frequency, recency, age, _ = weeks

    fitted = clv.fit_bgnbd(frequency, recency, age)

    for name, published in BGNBD_PUBLISHED.items():
        assert getattr(fitted, name) == pytest.approx(published, rel=0.01), name
    assert fitted.log_likelihood == pytest.approx(-9582.4, abs=0.1)


def test_gamma_gamma_fitted_on_the_repeat_buyers_gives_the_published_parameters_within_one_percent(weeks):
    frequency, _, _, repeat_mean = weeks

    fitted = clv.fit_gamma_gamma(frequency, repeat_mean)

    assert fitted.customers == 946
    for name, published in GAMMA_GAMMA_PUBLISHED.items():
        assert getattr(fitted, name) == pytest.approx(published, rel=0.01), name


def test_a_fit_started_from_a_sample_s_optimum_ends_at_the_same_parameters(weeks, monkeypatch):
    monkeypatch.setattr(clv, "WARM_START_SAMPLE", 500)

    bgnbd = clv.fit_bgnbd(*weeks[:3])
    gamma_gamma = clv.fit_gamma_gamma(weeks[0], weeks[3])

    for name, published in BGNBD_PUBLISHED.items():
        assert getattr(bgnbd, name) == pytest.approx(published, rel=0.01), name
    for name, published in GAMMA_GAMMA_PUBLISHED.items():
        assert getattr(gamma_gamma, name) == pytest.approx(published, rel=0.01), name


def test_a_customer_with_two_repeats_expects_1_226_purchases_in_the_next_39_weeks(weeks):
    fitted = clv.fit_bgnbd(*weeks[:3])

    assert float(fitted.expected_purchases(39, 2, 30.43, 38.86)) == pytest.approx(1.226, abs=0.0005)


def test_the_fit_in_days_is_the_fit_in_weeks_with_alpha_seven_times_larger(weeks):
    in_weeks = clv.fit_bgnbd(*weeks[:3])
    in_days = clv.fit_bgnbd(*calibration_summary(unit_days=1)[:3])

    assert in_days.alpha == pytest.approx(7 * in_weeks.alpha, rel=0.001)
    assert (in_days.r, in_days.a, in_days.b) == pytest.approx((in_weeks.r, in_weeks.a, in_weeks.b), rel=0.001)
    assert float(in_days.expected_purchases(273, 2, 213, 272)) == pytest.approx(
        float(in_weeks.expected_purchases(39, 2, 213 / 7, 272 / 7)), rel=0.001
    )


def test_probability_alive_is_one_without_a_repeat_and_falls_with_time_since_the_last_purchase(weeks):
    fitted = clv.fit_bgnbd(*weeks[:3])

    assert float(fitted.probability_alive(0, 0, 30)) == 1.0
    recent, lapsed = fitted.probability_alive([3, 3], [30, 5], [32, 32])
    assert 0 < lapsed < recent < 1


def test_bgnbd_without_a_single_repeat_purchase_is_no_fit():
    with pytest.raises(clv.FitFailed, match="no customer has a repeat purchase"):
        clv.fit_bgnbd([0] * 50, [0] * 50, [30] * 50)


@pytest.mark.parametrize(
    "fit, summary",
    [
        (clv.fit_bgnbd, ([1] * 50, [10] * 50, [10] * 50)),
        (clv.fit_gamma_gamma, ([1, 1, 1], [10.0, 10.0, 10.0])),
    ],
)
def test_a_degenerate_summary_whose_parameters_run_off_to_zero_or_infinity_is_no_fit(fit, summary):
    with pytest.raises(clv.FitFailed, match="zero or infinity"):
        fit(*summary)
