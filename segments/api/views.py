"""The segment endpoints of the API (issue 11's contracts): segments, their members, the
preview, a recalculation, and a customer's segments. Errors as every endpoint's: 400
{"errors": {field: [messages]}}, 401, 404 for another business's ids."""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers.api.auth import ApiError, authenticate, json_response, read_json_object
from customers.models import Customer
from customers.replicas import reads_from_replica
from segments import queries, rules, services
from segments.models import Segment

MAX_IDS = 1000


def found(business, pk):
    segment = queries.segment_of(business, pk)
    if segment is None:
        raise ApiError(404, {"segment": [f"No segment {pk} in this business."]})
    return segment


def refused(error):
    return ApiError(400, error.message_dict)


def with_job(segment, job):
    segment.refresh_from_db()
    return {**queries.segment_json(segment), "job_id": job.pk if job else None}


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST"])
def segments(request):
    """`GET segments` -> {"results": [segment], "next": null}; `POST segments` {"name",
    "description", "kind", "rules"} -> 201 with the segment and the "job_id" computing its
    members (null for a static one)."""
    try:
        business = authenticate(request).business
        if request.method == "GET":
            services.ensure_presets(business=business)
            results = [queries.segment_json(segment) for segment in queries.live_segments(business)]
            return json_response(200, {"results": results, "next": None})
        payload = read_json_object(request)
        try:
            segment, job = services.create_segment(
                business=business,
                actor=None,
                name=payload.get("name"),
                description=payload.get("description", ""),
                kind=payload.get("kind", Segment.Kind.DYNAMIC),
                rules=payload.get("rules"),
            )
        except ValidationError as error:
            raise refused(error) from None
    except ApiError as error:
        return error.response()
    return json_response(201, with_job(segment, job))


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "PUT", "DELETE"])
def segment(request, pk):
    """`GET segments/{id}`; `PUT` {"name", "description", "rules", "active"} (each optional)
    -> 200 with the segment and the "job_id" of the recalculation changed rules start;
    `DELETE` -> 204 (a soft delete)."""
    try:
        business = authenticate(request).business
        segment = found(business, pk)
        if request.method == "GET":
            return json_response(200, queries.segment_json(segment))
        if request.method == "DELETE":
            services.delete_segment(segment=segment, actor=None)
            response = json_response(204, {})
            response.content = b""
            return response
        payload = read_json_object(request)
        try:
            segment, job = services.update_segment(
                segment=segment,
                actor=None,
                name=payload.get("name", segment.name),
                description=payload.get("description", segment.description),
                rules=payload.get("rules"),
                active=payload.get("active"),
            )
        except ValidationError as error:
            raise refused(error) from None
    except ApiError as error:
        return error.response()
    return json_response(200, with_job(segment, job))


@csrf_exempt
@login_not_required
@require_POST
def recalculate(request, pk):
    """`POST segments/{id}/recalculate` -> 202 {"job_id"}; follow it at `GET jobs/{id}`."""
    try:
        business = authenticate(request).business
        segment = found(business, pk)
        if segment.kind != Segment.Kind.DYNAMIC:
            raise ApiError(400, {"segment": ["A static segment has no rules to recalculate."]})
    except ApiError as error:
        return error.response()
    job = services.request_recalculation(segment=segment, actor=None, reason="On demand (API)")
    return json_response(202, {"job_id": job.pk})


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST", "DELETE"])
def members(request, pk):
    """`GET segments/{id}/members[?cursor=]` -> {"results": [{"id", "phone", "first_name",
    "last_name", "email", "since"}], "next"}; `POST` / `DELETE` {"customer_ids": [...]} for
    a static segment -> 200 {"changed", "skipped": {reason: count}, "member_count"}."""
    try:
        business = authenticate(request).business
        segment = found(business, pk)
        if request.method == "GET":
            return member_page(request, segment)
        ids = customer_ids(read_json_object(request))
        change = services.add_ids if request.method == "POST" else services.remove_ids
        try:
            outcome = change(segment=segment, customer_ids=ids, actor=None)
        except ValidationError as error:
            raise refused(error) from None
    except ApiError as error:
        return error.response()
    segment.refresh_from_db()
    return json_response(
        200, {"changed": outcome.changed, "skipped": outcome.skipped, "member_count": segment.member_count}
    )


def member_page(request, segment):
    cursor = request.GET.get("cursor")
    if cursor is not None and not (cursor.isdigit() and len(cursor) < 19):
        raise ApiError(400, {"cursor": ["Pass the “next” value of the previous page."]})
    rows, next_cursor = queries.members_page(segment, after=int(cursor) if cursor else None)
    results = [
        {
            "id": row.customer_id,
            "phone": row.customer.phone,
            "first_name": row.customer.first_name,
            "last_name": row.customer.last_name,
            "email": row.customer.email,
            "since": queries.iso(row.since),
        }
        for row in rows
    ]
    return json_response(200, {"results": results, "next": str(next_cursor) if next_cursor else None})


def customer_ids(payload):
    ids = payload.get("customer_ids")
    valid = isinstance(ids, list) and all(type(pk) is int and 0 < pk < 2**63 for pk in ids)
    if not valid or not ids:
        raise ApiError(400, {"customer_ids": ["Send a list of customer ids (whole numbers)."]})
    if len(ids) > MAX_IDS:
        raise ApiError(400, {"customer_ids": [f"At most {MAX_IDS:,} ids at a time."]})
    return ids


@csrf_exempt
@login_not_required
@require_POST
@reads_from_replica
def preview(request):
    """`POST segments/preview` {"rules"} -> 200 {"count", "sample": [at most 20 customer ids]}."""
    try:
        business = authenticate(request).business
        payload = read_json_object(request)
        try:
            result = rules.preview(payload.get("rules"), business=business)
        except rules.RuleError as error:
            raise ApiError(400, {"rules": list(error.messages)}) from None
        except rules.PreviewTooSlow as error:
            raise ApiError(400, {"rules": [str(error)]}) from None
    except ApiError as error:
        return error.response()
    return json_response(200, {"count": result["count"], "sample": result["sample"]})


@login_not_required
@require_GET
def customer_segments(request, pk):
    """`GET customers/{id}/segments` -> {"results": [{"id", "name", "since"}]}."""
    try:
        business = authenticate(request).business
        customer = Customer.objects.filter(business=business, pk=pk).live().first()
        if customer is None:
            raise ApiError(404, {"customer": [f"No customer {pk} in this business."]})
    except ApiError as error:
        return error.response()
    results = [
        {"id": row.segment_id, "name": row.segment.name, "since": queries.iso(row.since)}
        for row in queries.segments_of_customer(customer)
    ]
    return json_response(200, {"results": results})
