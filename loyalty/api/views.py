"""The loyalty endpoints of the API: the tier configuration, a recalculation, the audit
history, a customer's loyalty status and their points."""

from django.core.exceptions import ValidationError

from customers.api.auth import ApiError
from customers.api.endpoints import CURSOR, endpoint, page_cursor, route
from customers.api.schemas import (
    DATE,
    DATETIME,
    ID,
    INTEGER,
    MONEY,
    NUMBER,
    STRING,
    array,
    enum,
    nullable,
    obj,
    page,
)
from customers.models import Customer
from loyalty import queries, services
from loyalty.models import TIER_ORDER, Period
from loyalty.services.points import MANUAL_KINDS, MAX_ENTRY_POINTS

THRESHOLD = obj(
    {
        "spend": nullable(MONEY),
        "visits": nullable(INTEGER),
        "points": nullable(INTEGER),
        "period": enum(Period.values),
    }
)
CONFIGURATION = {"silver": THRESHOLD, "gold": THRESHOLD, "platinum": THRESHOLD, "grace_days": INTEGER}
# What a PUT may send; the service says what is wrong with it, threshold by threshold.
THRESHOLD_INPUT = {"type": "object"}
CONFIGURATION_INPUT = obj(
    optional={
        "silver": THRESHOLD_INPUT,
        "gold": THRESHOLD_INPUT,
        "platinum": THRESHOLD_INPUT,
        "grace_days": {"type": ["integer", "string"]},
        "reason": STRING,
    }
)
LOYALTY_STATUS = obj(
    {
        "tier": enum(TIER_ORDER),
        "tier_source": enum(["computed", "override", "grace"]),
        "override_expires_at": nullable(DATETIME),
        "downgrade_on": nullable(DATE),
        "next_tier": nullable(obj({"tier": enum(TIER_ORDER), "requirements": array({"type": "object"})})),
        "points_balance": INTEGER,
        "clv": nullable(
            obj(
                {
                    "current": MONEY,
                    "predicted_365d": MONEY,
                    "expected_orders_365d": NUMBER,
                    "probability_alive": nullable(NUMBER),
                    "model_version": STRING,
                    "calculated_at": DATETIME,
                }
            )
        ),
    }
)


def live_customer(business, pk):
    customer = Customer.objects.filter(business=business, pk=pk).live().select_related("business").first()
    if customer is None:
        raise ApiError(404, {"customer": [f"No customer {pk} in this business."]})
    return customer


@endpoint(
    "GET",
    "loyalty",
    summary="The tier thresholds and grace days",
    responses={200: obj(CONFIGURATION)},
)
def get_tier_configuration(call):
    return 200, services.configuration_json(queries.configuration_of(call.business))


@endpoint(
    "PUT",
    "loyalty",
    summary="Change the tier thresholds",
    description="The thresholds of silver, gold and platinum with a reason (grace_days may be left "
    "out); answers the saved configuration and the job of the recalculation it started.",
    body_schema=CONFIGURATION_INPUT,
    responses={200: obj({**CONFIGURATION, "job_id": ID}), 400: None},
)
def put_tier_configuration(call):
    payload = call.payload
    current = queries.configuration_of(call.business)
    try:
        configuration, job = services.configure_tiers(
            business=call.business,
            thresholds={name: payload.get(name) for name in ("silver", "gold", "platinum")},
            grace_days=payload.get("grace_days", current.grace_days),
            reason=payload.get("reason"),
            actor=None,
        )
    except ValidationError as error:
        raise ApiError(400, error.message_dict) from None
    return 200, {**services.configuration_json(configuration), "job_id": job.pk}


tier_configuration = route(get_tier_configuration, put_tier_configuration)


@endpoint(
    "POST",
    "loyalty",
    summary="Recalculate every customer's tier",
    description="Follow the job at GET jobs/{id}.",
    responses={202: obj({"job_id": ID})},
)
def recalculate(call):
    job = services.request_recalculation(business=call.business, actor=None, reason="On demand (API)")
    return 202, {"job_id": job.pk}


@endpoint(
    "GET",
    "loyalty",
    summary="The history of tier configuration changes, newest first",
    query=CURSOR,
    responses={
        200: page(
            obj(
                {
                    "changed_at": DATETIME,
                    "changed_by": nullable(STRING),
                    "reason": STRING,
                    "old": {"type": "object"},
                    "new": {"type": "object"},
                }
            )
        ),
        400: None,
    },
)
def audits(call):
    rows, next_cursor = queries.audits(call.business, before=page_cursor(call.request))
    results = [
        {
            "changed_at": queries.iso(audit.changed_at),
            "changed_by": audit.changed_by.get_username() if audit.changed_by else None,
            "reason": audit.reason,
            "old": audit.old,
            "new": audit.new,
        }
        for audit in rows
    ]
    return 200, {"results": results, "next": str(next_cursor) if next_cursor else None}


@endpoint(
    "GET",
    "loyalty",
    summary="A customer's tier, points and lifetime value",
    responses={200: LOYALTY_STATUS, 404: None},
)
def customer_loyalty(call, pk):
    customer = live_customer(call.business, pk)
    return 200, {
        **queries.tier_status(customer),
        "points_balance": customer.points_balance,
        "clv": queries.clv_status(customer),
    }


@endpoint(
    "POST",
    "loyalty",
    summary="Adjust or redeem a customer's points",
    description="An adjustment's points are signed, a redemption's are the points to take; 400 past "
    "the balance.",
    body_schema=obj(
        optional={
            "kind": enum(MANUAL_KINDS),
            "points": {"type": "integer", "minimum": -MAX_ENTRY_POINTS, "maximum": MAX_ENTRY_POINTS},
            "reason": STRING,
        }
    ),
    responses={201: obj({"entry_id": ID, "points_balance": INTEGER}), 400: None, 404: None},
)
def customer_points(call, pk):
    customer = live_customer(call.business, pk)
    payload = call.payload
    try:
        entry = services.change_points(
            customer=customer,
            kind=payload.get("kind"),
            points=payload.get("points"),
            reason=payload.get("reason"),
            actor=None,
        )
    except ValidationError as error:
        raise ApiError(400, error.message_dict) from None
    return 201, {"entry_id": entry.pk, "points_balance": entry.balance}
