"""Every write of customer lifetime value: the per-business fit and the scores it stores."""

import zoneinfo

import numpy as np
from django.db import transaction
from django.utils import timezone

from customers.bulk.writers import bulk_insert
from customers.services.audit import log_audit
from loyalty import clv, queries
from loyalty.models import (
    CustomerLifetimeValue,
    LifetimeValueFit,
)

MODEL_VERSION = "bgnbd-gamma-gamma-v1"
SIMPLE_VERSION = "simple-estimate-v1"
HORIZON_DAYS = 365
# Fewer customers with a repeat order than this give unstable parameters.
MIN_REPEAT_CUSTOMERS = 200
WRITE_CHUNK = 50_000
# The largest value the money columns hold, so an outlier's prediction cannot overflow them.
MAX_MONEY = 999_999_999_999.99


def fit_lifetime_values(*, business, actor, as_of=None):
    """Fit the business's lifetime value model on its completed orders up to `as_of`
    (default: today in its time zone), score every customer with such an order, and
    replace their stored values with these. Returns the LifetimeValueFit."""
    if as_of is None:
        as_of = timezone.localdate(timezone=zoneinfo.ZoneInfo(business.timezone))
    summary = queries.lifetime_summary(business, as_of)
    fit = LifetimeValueFit(
        business=business,
        as_of=as_of,
        customers=len(summary.customer_ids),
        repeat_customers=int((summary.frequency > 0).sum()),
    )
    scores = fit_and_score(fit, summary)
    fit.fitted_at = timezone.now()
    with transaction.atomic():
        fit.save()
        CustomerLifetimeValue.objects.filter(business=business).delete()
        write_values(fit, summary, scores)
        fit.figures = queries.value_figures(CustomerLifetimeValue.objects.filter(business=business))
        fit.save(update_fields=["figures"])
        log_audit(
            business=business,
            actor=actor,
            action="clv.fitted",
            target=f"as of {as_of}",
            model_version=fit.model_version,
            customers=fit.customers,
            note=fit.note,
        )
    return fit


def fit_and_score(fit, summary):
    """Fill in the fit's parameters and return the customers' scores: BG/NBD and
    Gamma-Gamma, or the simple estimate, saying why, when the history is too thin for them
    or the optimizer does not converge."""
    if fit.repeat_customers < MIN_REPEAT_CUSTOMERS:
        return simple_estimate(
            fit,
            summary,
            f"{fit.repeat_customers:,} customers with a repeat order; "
            f"the model needs {MIN_REPEAT_CUSTOMERS:,}.",
        )
    try:
        bgnbd = clv.fit_bgnbd(summary.frequency, summary.recency, summary.age)
        gamma_gamma = clv.fit_gamma_gamma(summary.frequency, summary.repeat_mean)
    except clv.FitFailed as error:
        return simple_estimate(fit, summary, f"The model's fit did not converge ({error}).")
    fit.model_version = MODEL_VERSION
    fit.r, fit.alpha, fit.a, fit.b = bgnbd.r, bgnbd.alpha, bgnbd.a, bgnbd.b
    fit.log_likelihood = bgnbd.log_likelihood
    fit.p, fit.q, fit.gamma = gamma_gamma.p, gamma_gamma.q, gamma_gamma.gamma
    fit.gamma_gamma_customers = gamma_gamma.customers
    fit.gamma_gamma_log_likelihood = gamma_gamma.log_likelihood
    return clv.score(
        bgnbd,
        gamma_gamma,
        HORIZON_DAYS,
        summary.frequency,
        summary.recency,
        summary.age,
        summary.repeat_mean,
    )


def simple_estimate(fit, summary, reason):
    fit.model_version = SIMPLE_VERSION
    fit.note = f"Simple estimate: {reason}"
    order_value = np.asarray(summary.current, dtype=float) / (summary.frequency + 1)
    return clv.simple_scores(HORIZON_DAYS, summary.frequency, summary.age, order_value)


def write_values(fit, summary, scores):
    """The customers' rows, inserted chunk by chunk (COPY on PostgreSQL)."""
    expected = np.round(scores.expected_purchases, 4)
    predicted = np.round(np.minimum(scores.predicted_value, MAX_MONEY), 2)
    alive = None if scores.probability_alive is None else np.round(scores.probability_alive, 4)
    for start in range(0, len(summary.customer_ids), WRITE_CHUNK):
        end = start + WRITE_CHUNK
        bulk_insert(
            CustomerLifetimeValue,
            [
                {
                    "business_id": fit.business_id,
                    "customer_id": customer_id,
                    "current": current,
                    "predicted_365d": predicted_value,
                    "expected_orders_365d": expected_orders,
                    "probability_alive": probability,
                    "model_version": fit.model_version,
                    "calculated_at": fit.fitted_at,
                }
                for customer_id, current, predicted_value, expected_orders, probability in zip(
                    summary.customer_ids[start:end].tolist(),
                    summary.current[start:end],
                    predicted[start:end].tolist(),
                    expected[start:end].tolist(),
                    [None] * len(expected[start:end]) if alive is None else alive[start:end].tolist(),
                    strict=True,
                )
            ],
        )
