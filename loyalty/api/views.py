"""The loyalty endpoints of the API: the tier configuration, a recalculation, the audit
history, a customer's loyalty status and their points."""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers.api.auth import ApiError, authenticate, json_response, read_json_object
from customers.models import Customer
from loyalty import queries, services


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "PUT"])
def tier_configuration(request):
    """`GET tiers/configuration` -> {"silver": {"spend", "visits", "points", "period"}, "gold",
    "platinum", "grace_days"}; `PUT` the same with a "reason" (grace_days may be left out)
    -> 200 with the saved configuration and the "job_id" of the recalculation it started."""
    try:
        business = authenticate(request).business
        if request.method == "GET":
            return json_response(200, services.configuration_json(queries.configuration_of(business)))
        payload = read_json_object(request)
        current = queries.configuration_of(business)
        try:
            configuration, job = services.configure_tiers(
                business=business,
                thresholds={name: payload.get(name) for name in ("silver", "gold", "platinum")},
                grace_days=payload.get("grace_days", current.grace_days),
                reason=payload.get("reason"),
                actor=None,
            )
        except ValidationError as error:
            raise ApiError(400, error.message_dict) from None
    except ApiError as error:
        return error.response()
    return json_response(200, {**services.configuration_json(configuration), "job_id": job.pk})


@csrf_exempt
@login_not_required
@require_POST
def recalculate(request):
    """`POST tiers/recalculate` -> 202 {"job_id"}; follow it at `GET jobs/{id}`."""
    try:
        business = authenticate(request).business
    except ApiError as error:
        return error.response()
    job = services.request_recalculation(business=business, actor=None, reason="On demand (API)")
    return json_response(202, {"job_id": job.pk})


@login_not_required
@require_GET
def audits(request):
    """`GET tiers/audits[?cursor=...]` -> {"results": [{"changed_at", "changed_by", "reason",
    "old", "new"}], "next": cursor-or-null}, newest first."""
    try:
        business = authenticate(request).business
        cursor = request.GET.get("cursor")
        if cursor is not None and not cursor.isdigit():
            raise ApiError(400, {"cursor": ["Pass the “next” value of the previous page."]})
        rows, next_cursor = queries.audits(business, before=int(cursor) if cursor else None)
    except ApiError as error:
        return error.response()
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
    return json_response(200, {"results": results, "next": str(next_cursor) if next_cursor else None})


@login_not_required
@require_GET
def customer_loyalty(request, pk):
    """`GET customers/{id}/loyalty` -> {"tier", "tier_source", "override_expires_at",
    "downgrade_on", "points_balance", "next_tier", "clv"}; 404 for a customer of another
    business."""
    try:
        business = authenticate(request).business
        customer = Customer.objects.filter(business=business, pk=pk).live().select_related("business").first()
        if customer is None:
            raise ApiError(404, {"customer": [f"No customer {pk} in this business."]})
    except ApiError as error:
        return error.response()
    return json_response(
        200,
        {
            **queries.tier_status(customer),
            "points_balance": customer.points_balance,
            "clv": queries.clv_status(customer),
        },
    )


@csrf_exempt
@login_not_required
@require_POST
def customer_points(request, pk):
    """`POST customers/{id}/points` {"kind": "adjust"|"redeem", "points": 50, "reason": "..."}
    -> 201 {"entry_id", "points_balance"}; an adjustment's points are signed, a redemption's
    are the points to take; 400 past the balance; 404 for a customer of another business."""
    try:
        business = authenticate(request).business
        customer = Customer.objects.filter(business=business, pk=pk).live().first()
        if customer is None:
            raise ApiError(404, {"customer": [f"No customer {pk} in this business."]})
        payload = read_json_object(request)
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
    except ApiError as error:
        return error.response()
    return json_response(201, {"entry_id": entry.pk, "points_balance": entry.balance})
