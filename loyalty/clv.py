"""Customer lifetime value models, in numpy and scipy only (no app code): BG/NBD for the
number of future orders (Fader, Hardie and Lee, "Counting Your Customers the Easy Way",
2005) and Gamma-Gamma for their value (Fader and Hardie, "The Gamma-Gamma Model of
Monetary Value", 2013), fitted by maximum likelihood, and scoring vectorized over arrays.

A customer's summary: `frequency` x (repeat purchase occasions: days with an order after
the first), `recency` t_x (first to last purchase) and `age` T (first purchase to the
as-of date), in one time unit (the product uses days), and for Gamma-Gamma the mean value
of the repeat purchases.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

# The optimizer works on the logarithms of the parameters, which keeps them positive.
START = np.zeros(4)
GAMMA_GAMMA_START = np.log([1.0, 2.0, 1.0])
# A degenerate summary (no repeat purchases, all values alike) drives the likelihood's
# maximum off to zero or infinity: the optimizer searches within these bounds, and
# parameters that end on one are no fit.
PLAUSIBLE = (1e-5, 1e5)
# Customers in the sample whose fit starts the fit of a larger summary.
WARM_START_SAMPLE = 50_000


class FitFailed(Exception):
    """The optimizer did not converge to finite parameters."""


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float

    def expected_purchases(self, t, frequency, recency, age):
        """E[Y(t) | x, t_x, T]: the expected number of purchases in the next `t` (equation 10
        of the paper), per customer."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        x, t_x, T = (np.asarray(v, dtype=float) for v in (frequency, recency, age))
        z = t / (alpha + T + t)
        growth = 1.0 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1.0, z)
        return (a + b + x - 1.0) / (a - 1.0) * growth / self._denominator(x, t_x, T)

    def probability_alive(self, frequency, recency, age):
        x, t_x, T = (np.asarray(v, dtype=float) for v in (frequency, recency, age))
        return 1.0 / self._denominator(x, t_x, T)

    def _denominator(self, x, t_x, T):
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        repeat = x > 0
        ratio = np.where(
            repeat, a / np.maximum(b + x - 1.0, 1e-12) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0.0
        )
        return 1.0 + ratio


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float
    log_likelihood: float
    customers: int

    def expected_value(self, frequency, monetary_value):
        """E[M | x, m_x]: a customer's expected value per purchase; the population mean for a
        customer with no repeat purchase."""
        x = np.asarray(frequency, dtype=float)
        m = np.nan_to_num(np.asarray(monetary_value, dtype=float))
        p, q, gamma = self.p, self.q, self.gamma
        return (gamma + m * x) * p / (p * x + q - 1.0)


def bgnbd_log_likelihood(params, frequency, recency, age, weights):
    """The BG/NBD log-likelihood (equation 6 of the paper) summed over customers, each
    counted `weights` times."""
    r, alpha, a, b = params
    x, t_x, T = frequency, recency, age
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    alive = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    dropped = np.full_like(alive, -np.inf)
    dropped[repeat] = np.log(a) - np.log(b + x[repeat] - 1.0) - (r + x[repeat]) * np.log(alpha + t_x[repeat])
    return float(np.sum(weights * (common + np.logaddexp(alive, dropped))))


def gamma_gamma_log_likelihood(params, frequency, monetary_value, weights):
    """The Gamma-Gamma log-likelihood of the mean repeat values, over customers with x > 0."""
    p, q, gamma = params
    x, m = frequency, monetary_value
    each = (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(gamma)
        + (p * x - 1.0) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(gamma + m * x)
    )
    return float(np.sum(weights * each))


def maximize(log_likelihood, start, arrays):
    """Maximum likelihood on the logarithms of the parameters. A large summary is first
    fitted on a random sample, whose optimum starts the fit on the whole: that takes a
    few iterations where a cold start takes dozens."""
    if len(arrays[0]) > WARM_START_SAMPLE:
        chosen = np.random.default_rng(0).choice(len(arrays[0]), WARM_START_SAMPLE, replace=False)
        start = np.log(optimize(log_likelihood, start, [column[chosen] for column in arrays])[0])
    return optimize(log_likelihood, start, arrays)


def optimize(log_likelihood, start, arrays):
    """The summary is collapsed to its distinct rows, each weighted by how many customers share it."""
    rows, weights = np.unique(np.column_stack(arrays), axis=0, return_counts=True)
    columns = [rows[:, i] for i in range(rows.shape[1])]
    scale = max(weights.sum(), 1)

    def objective(log_params):
        value = log_likelihood(np.exp(log_params), *columns, weights)
        return -value / scale if np.isfinite(value) else np.inf

    bounds = [np.log(PLAUSIBLE)] * len(start)
    with np.errstate(all="ignore"):
        result = minimize(objective, start, method="L-BFGS-B", bounds=bounds, options={"maxiter": 1000})
    if not result.success or not np.isfinite(result.fun):
        raise FitFailed(result.message)
    if np.any(np.isclose(result.x, bounds[0][0])) or np.any(np.isclose(result.x, bounds[0][1])):
        raise FitFailed("the parameters run off to zero or infinity: the history is degenerate")
    return np.exp(result.x), -result.fun * scale


def fit_bgnbd(frequency, recency, age):
    arrays = [np.asarray(v, dtype=float) for v in (frequency, recency, age)]
    if not np.any(arrays[0] > 0):
        # Without a repeat purchase the dropout parameters a and b are not identified.
        raise FitFailed("no customer has a repeat purchase")
    params, log_likelihood = maximize(bgnbd_log_likelihood, START, arrays)
    return BgNbd(*(float(v) for v in params), log_likelihood=float(log_likelihood))


def fit_gamma_gamma(frequency, monetary_value):
    """Fitted on the customers with at least one repeat purchase and a positive mean value."""
    x, m = np.asarray(frequency, dtype=float), np.asarray(monetary_value, dtype=float)
    repeat = (x > 0) & (m > 0)
    params, log_likelihood = maximize(gamma_gamma_log_likelihood, GAMMA_GAMMA_START, [x[repeat], m[repeat]])
    if params[1] <= 1.0:
        # E[M] = p * gamma / (q - 1) exists only for q > 1.
        raise FitFailed("Gamma-Gamma q <= 1: the mean value per purchase is not finite.")
    return GammaGamma(
        *(float(v) for v in params), log_likelihood=float(log_likelihood), customers=int(repeat.sum())
    )


@dataclass(frozen=True)
class Scores:
    expected_purchases: np.ndarray
    predicted_value: np.ndarray
    probability_alive: np.ndarray | None  # None for the simple estimate


def score(bgnbd, gamma_gamma, horizon, frequency, recency, age, repeat_mean):
    """Every customer's expected purchases and value over the next `horizon`, and the
    probability they are still a customer, in a few array operations."""
    with np.errstate(all="ignore"):
        expected = np.clip(np.nan_to_num(bgnbd.expected_purchases(horizon, frequency, recency, age)), 0, None)
        alive = np.clip(np.nan_to_num(bgnbd.probability_alive(frequency, recency, age)), 0, 1)
        value = np.clip(np.nan_to_num(gamma_gamma.expected_value(frequency, repeat_mean)), 0, None)
    return Scores(expected, expected * value, alive)


def simple_scores(horizon, frequency, age, order_value):
    """The estimate for a business with too little history for the models: the business's
    observed rate of repeat purchases per customer and day, the same for everyone, times
    each customer's own mean purchase value."""
    frequency, age = np.asarray(frequency, dtype=float), np.asarray(age, dtype=float)
    observed = age.sum()
    rate = frequency.sum() / observed if observed > 0 else 0.0
    expected = np.full(frequency.shape, rate * horizon)
    return Scores(expected, expected * np.asarray(order_value, dtype=float), None)
