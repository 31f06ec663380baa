"""`GET /api/v1/segments/{id}/audience`: who of a segment may be contacted on a channel for a
purpose, and from when (privacy reads the segment's members through segments' queries)."""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.views.decorators.http import require_GET

from customers.api.auth import ApiError, authenticate, json_response
from customers.signals import LIST_EXPORTED
from privacy import queries, services
from segments import queries as segment_queries


@login_not_required
@require_GET
def segment_audience(request, pk):
    """`?channel=email|sms|push&purpose=marketing|promotions|newsletter|surveys|loyalty[&cursor=]`
    -> {"results": [{"id", "contact", "send_after"}], "next": cursor-or-null}; the page is
    in the access log as the key's."""
    try:
        key = authenticate(request)
        segment = segment_queries.segment_of(key.business, pk)
        if segment is None:
            raise ApiError(404, {"segment": [f"No segment {pk} in this business."]})
        channel, purpose = request.GET.get("channel"), request.GET.get("purpose")
        try:
            queries.clean_audience_request(channel, purpose)
        except ValidationError as error:
            raise ApiError(400, error.message_dict) from None
        cursor = request.GET.get("cursor")
        if cursor is not None and not (cursor.isdigit() and len(cursor) < 19):
            raise ApiError(400, {"cursor": ["Pass the “next” value of the previous page."]})
        page = queries.audience_page(
            segment_queries.member_customers(segment),
            channel=channel,
            purpose=purpose,
            business=key.business,
            now=timezone.now(),
            after=int(cursor) if cursor else None,
        )
        services.record_access(
            business=key.business,
            actor=None,
            api_key=key,
            customer_ids=[row["id"] for row in page["results"]],
            what=LIST_EXPORTED,
            query=f"segment {segment.pk} audience: {channel} for {purpose}",
        )
    except ApiError as error:
        return error.response()
    return json_response(200, page)
