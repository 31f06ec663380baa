"""`GET /api/v1/segments/{id}/audience`: who of a segment may be contacted on a channel for a
purpose, and from when (privacy reads the segment's members through segments' queries)."""

from django.utils import timezone

from customers.api.auth import ApiError
from customers.api.endpoints import CURSOR, REQUIRED, endpoint, page_cursor
from customers.api.schemas import DATETIME, ID, STRING, enum, obj, page
from customers.signals import LIST_EXPORTED
from privacy import queries, services
from privacy.queries.audience import CHANNEL_FIELDS, PURPOSE_FIELDS
from segments import queries as segment_queries


@endpoint(
    "GET",
    "privacy",
    summary="Who of a segment may be contacted on a channel for a purpose, and from when",
    description="Each customer's `send_after` is the first moment past their quiet hours; the page "
    "is in the access log as the key's.",
    query={
        "channel": (enum(CHANNEL_FIELDS), "The channel of the campaign", REQUIRED),
        "purpose": (enum(PURPOSE_FIELDS), "What the messages are for", REQUIRED),
        **CURSOR,
    },
    responses={
        200: page(obj({"id": ID, "contact": STRING, "send_after": DATETIME})),
        400: None,
        404: None,
    },
)
def segment_audience(call, pk):
    segment = segment_queries.segment_of(call.business, pk)
    if segment is None:
        raise ApiError(404, {"segment": [f"No segment {pk} in this business."]})
    channel, purpose = call.request.GET["channel"], call.request.GET["purpose"]
    audience = queries.audience_page(
        segment_queries.member_customers(segment),
        channel=channel,
        purpose=purpose,
        business=call.business,
        now=timezone.now(),
        after=page_cursor(call.request),
    )
    services.record_access(
        business=call.business,
        actor=None,
        api_key=call.api_key,
        customer_ids=[row["id"] for row in audience["results"]],
        what=LIST_EXPORTED,
        query=f"segment {segment.pk} audience: {channel} for {purpose}",
    )
    return 200, audience
