"""The segment endpoints of the API (issue 11's contracts): segments, their members, the
preview, a recalculation, and a customer's segments."""

from django.core.exceptions import ValidationError
from django.http import HttpResponse

from customers.api.auth import ApiError
from customers.api.endpoints import CURSOR, endpoint, page_cursor, route
from customers.api.forms import MAX_ID
from customers.api.schemas import (
    BOOLEAN,
    DATETIME,
    ID,
    INTEGER,
    STRING,
    array,
    enum,
    nullable,
    obj,
    page,
)
from customers.models import Customer
from customers.replicas import reads_from_replica
from segments import queries, rules, services
from segments.models import Segment

MAX_IDS = 1000

SEGMENT_FIELDS = {
    "id": ID,
    "name": STRING,
    "description": STRING,
    "kind": enum(Segment.Kind.values),
    "rules": {"type": "object", "description": "The rule tree; {} for a static segment"},
    "active": BOOLEAN,
    "member_count": INTEGER,
    "last_recalculated_at": nullable(DATETIME),
}
SEGMENT_WITH_JOB = obj(
    {
        **SEGMENT_FIELDS,
        "job_id": nullable({**ID, "description": "The recalculation computing the members; GET jobs/{id}"}),
    }
)
# The service reads the rule tree (an object, or its JSON text) and names what is wrong in
# it; a static segment's rules are not read at all.
RULES_INPUT = {"description": "The rule tree (an object, or its JSON text) of a dynamic segment"}
CUSTOMER_IDS = obj(
    {
        "customer_ids": array(
            {"type": "integer", "minimum": 1, "maximum": MAX_ID}, minItems=1, maxItems=MAX_IDS
        )
    }
)
MEMBERS_CHANGED = obj(
    {
        "changed": INTEGER,
        "skipped": {
            "type": "object",
            "additionalProperties": INTEGER,
            "description": "How many ids were skipped, by reason",
        },
        "member_count": INTEGER,
    }
)
MEMBER = obj(
    {
        "id": ID,
        "phone": STRING,
        "first_name": STRING,
        "last_name": STRING,
        "email": STRING,
        "since": DATETIME,
    }
)


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


@endpoint(
    "GET",
    "segments",
    summary="The business's segments",
    description="The presets included; one page (`next` is null).",
    responses={200: page(obj(SEGMENT_FIELDS))},
)
def list_segments(call):
    services.ensure_presets(business=call.business)
    results = [queries.segment_json(segment) for segment in queries.live_segments(call.business)]
    return 200, {"results": results, "next": None}


@endpoint(
    "POST",
    "segments",
    summary="Create a segment",
    description="A dynamic segment's members are computed by the job of `job_id` (null for a static one).",
    body_schema=obj(
        {"name": STRING},
        optional={
            "description": nullable(STRING),
            "kind": enum(Segment.Kind.values, description="dynamic unless said"),
            "rules": RULES_INPUT,
        },
    ),
    responses={201: SEGMENT_WITH_JOB, 400: None},
)
def create_segment(call):
    payload = call.payload
    try:
        segment, job = services.create_segment(
            business=call.business,
            actor=None,
            name=payload["name"],
            description=payload.get("description", ""),
            kind=payload.get("kind", Segment.Kind.DYNAMIC),
            rules=payload.get("rules"),
        )
    except ValidationError as error:
        raise refused(error) from None
    return 201, with_job(segment, job)


segments = route(list_segments, create_segment)


@endpoint("GET", "segments", summary="A segment", responses={200: obj(SEGMENT_FIELDS), 404: None})
def get_segment(call, pk):
    return 200, queries.segment_json(found(call.business, pk))


@endpoint(
    "PUT",
    "segments",
    summary="Change a segment",
    description="Each field optional; changed rules of a dynamic segment start the recalculation of "
    "`job_id` (else null). The kind stays.",
    body_schema=obj(
        optional={
            "name": STRING,
            "description": nullable(STRING),
            "rules": {**RULES_INPUT, "description": "The new rule tree; null or left out keeps it"},
            "active": nullable(BOOLEAN),
        }
    ),
    responses={200: SEGMENT_WITH_JOB, 400: None, 404: None},
)
def put_segment(call, pk):
    segment = found(call.business, pk)
    payload = call.payload
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
    return 200, with_job(segment, job)


@endpoint(
    "DELETE",
    "segments",
    summary="Delete a segment",
    description="A soft delete: the segment leaves every list and its name is free again.",
    responses={204: None, 404: None},
)
def delete_segment(call, pk):
    services.delete_segment(segment=found(call.business, pk), actor=None)
    return HttpResponse(status=204)


segment = route(get_segment, put_segment, delete_segment)


@endpoint(
    "POST",
    "segments",
    summary="Recalculate a dynamic segment's members",
    description="Follow the job at GET jobs/{id}; 400 for a static segment.",
    responses={202: obj({"job_id": ID}), 400: None, 404: None},
)
def recalculate(call, pk):
    segment = found(call.business, pk)
    if segment.kind != Segment.Kind.DYNAMIC:
        raise ApiError(400, {"segment": ["A static segment has no rules to recalculate."]})
    job = services.request_recalculation(segment=segment, actor=None, reason="On demand (API)")
    return 202, {"job_id": job.pk}


@endpoint(
    "GET",
    "segments",
    summary="A segment's members, by customer id",
    query=CURSOR,
    responses={200: page(MEMBER), 400: None, 404: None},
)
def list_members(call, pk):
    segment = found(call.business, pk)
    rows, next_cursor = queries.members_page(segment, after=page_cursor(call.request))
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
    return 200, {"results": results, "next": str(next_cursor) if next_cursor else None}


def change_members(call, pk, change):
    segment = found(call.business, pk)
    try:
        outcome = change(segment=segment, customer_ids=call.payload["customer_ids"], actor=None)
    except ValidationError as error:
        raise refused(error) from None
    segment.refresh_from_db()
    return 200, {"changed": outcome.changed, "skipped": outcome.skipped, "member_count": segment.member_count}


@endpoint(
    "POST",
    "segments",
    summary="Add customers to a static segment",
    description="Ids of no live customer of this business are skipped as such; 400 for a dynamic segment.",
    body_schema=CUSTOMER_IDS,
    responses={200: MEMBERS_CHANGED, 400: None, 404: None},
)
def add_members(call, pk):
    return change_members(call, pk, services.add_ids)


@endpoint(
    "DELETE",
    "segments",
    summary="Remove customers from a static segment",
    description="400 for a dynamic segment.",
    body_schema=CUSTOMER_IDS,
    responses={200: MEMBERS_CHANGED, 400: None, 404: None},
)
def remove_members(call, pk):
    return change_members(call, pk, services.remove_ids)


members = route(list_members, add_members, remove_members)


@reads_from_replica
@endpoint(
    "POST",
    "segments",
    summary="Preview a rule tree: how many customers it matches, and the newest of them",
    description="Nothing is saved; 400 for bad rules or a preview past its time budget.",
    body_schema=obj({"rules": RULES_INPUT}),
    responses={200: obj({"count": INTEGER, "sample": array(ID, maxItems=20)}), 400: None},
)
def preview(call):
    try:
        result = rules.preview(call.payload["rules"], business=call.business)
    except rules.RuleError as error:
        raise ApiError(400, {"rules": list(error.messages)}) from None
    except rules.PreviewTooSlow as error:
        raise ApiError(400, {"rules": [str(error)]}) from None
    return 200, {"count": result["count"], "sample": result["sample"]}


@endpoint(
    "GET",
    "segments",
    summary="The segments a customer is in, and since when",
    responses={200: obj({"results": array(obj({"id": ID, "name": STRING, "since": DATETIME}))}), 404: None},
)
def customer_segments(call, pk):
    customer = Customer.objects.filter(business=call.business, pk=pk).live().first()
    if customer is None:
        raise ApiError(404, {"customer": [f"No customer {pk} in this business."]})
    results = [
        {"id": row.segment_id, "name": row.segment.name, "since": queries.iso(row.since)}
        for row in queries.segments_of_customer(customer)
    ]
    return 200, {"results": results}
