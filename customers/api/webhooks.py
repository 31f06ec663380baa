"""The webhook endpoints of the API (issue 15's contracts): a business's endpoints, a test
event and the delivery log. The secret is never shown; another business's endpoint is a 404."""

from django.core.exceptions import ValidationError
from django.http import HttpResponse

from customers import queries, services
from customers.api.auth import ApiError
from customers.api.endpoints import CURSOR, endpoint, page_cursor, route
from customers.api.schemas import BOOLEAN, DATETIME, ID, INTEGER, STRING, array, enum, nullable, obj, page
from customers.models import WebhookDelivery, WebhookEndpoint

UUID = {"type": "string", "format": "uuid"}
WEBHOOK = obj({"id": ID, "url": STRING, "events": array(STRING), "active": BOOLEAN})
# The service checks the URL, the event types and the secret and says what is wrong.
URL_AND_EVENTS = {
    "url": STRING,
    "events": array(STRING, description='Event types, or ["*"] for all of them'),
}
OPTIONAL_FIELDS = {"active": {**BOOLEAN, "description": "true unless said"}}
SECRET = {**STRING, "description": "Every delivery is signed with it; it is never shown again"}


def found(business, pk):
    endpoint = WebhookEndpoint.objects.filter(business=business, pk=pk).first()
    if endpoint is None:
        raise ApiError(404, {"webhook": [f"No webhook {pk} in this business."]})
    return endpoint


def endpoint_fields(payload):
    return {
        "url": payload["url"],
        "events": payload["events"],
        "secret": payload.get("secret"),
        "active": payload.get("active", True),
    }


def refused(error):
    return ApiError(400, {field: messages for field, messages in error.message_dict.items()})


@endpoint("GET", "admin", summary="The business's webhooks", responses={200: page(WEBHOOK)})
def list_webhooks(call):
    endpoints = [queries.webhook_endpoint_json(e) for e in queries.webhook_endpoints(call.business)]
    return 200, {"results": endpoints, "next": None}


@endpoint(
    "POST",
    "admin",
    summary="Add a webhook",
    body_schema=obj(
        {**URL_AND_EVENTS, "secret": SECRET}, optional=OPTIONAL_FIELDS, additionalProperties=False
    ),
    responses={201: WEBHOOK, 400: None},
)
def create_webhook(call):
    try:
        endpoint = services.create_endpoint(
            business=call.business, actor=None, **endpoint_fields(call.payload)
        )
    except ValidationError as error:
        raise refused(error) from None
    return 201, queries.webhook_endpoint_json(endpoint)


webhooks = route(list_webhooks, create_webhook)


@endpoint("GET", "admin", summary="A webhook", responses={200: WEBHOOK, 404: None})
def get_webhook(call, pk):
    return 200, queries.webhook_endpoint_json(found(call.business, pk))


@endpoint(
    "PUT",
    "admin",
    summary="Change a webhook",
    description="Without `secret` the secret stays; `active` is true unless said.",
    body_schema=obj(
        URL_AND_EVENTS, optional={"secret": SECRET, **OPTIONAL_FIELDS}, additionalProperties=False
    ),
    responses={200: WEBHOOK, 400: None, 404: None},
)
def put_webhook(call, pk):
    endpoint = found(call.business, pk)
    try:
        endpoint = services.update_endpoint(endpoint=endpoint, actor=None, **endpoint_fields(call.payload))
    except ValidationError as error:
        raise refused(error) from None
    return 200, queries.webhook_endpoint_json(endpoint)


@endpoint("DELETE", "admin", summary="Delete a webhook", responses={204: None, 404: None})
def delete_webhook(call, pk):
    services.delete_endpoint(endpoint=found(call.business, pk), actor=None)
    return HttpResponse(status=204)


webhook = route(get_webhook, put_webhook, delete_webhook)


@endpoint(
    "POST",
    "admin",
    summary="Send a webhook.test event to this webhook",
    description="409 for an inactive webhook.",
    responses={202: obj({"delivery_id": ID, "event_id": UUID}), 404: None, 409: None},
)
def test(call, pk):
    endpoint = found(call.business, pk)
    try:
        delivery = services.send_test_event(endpoint=endpoint, actor=None)
    except ValidationError as error:
        raise ApiError(409, {"webhook": error.messages}) from None
    return 202, {"delivery_id": delivery.pk, "event_id": str(delivery.event.uid)}


@endpoint(
    "GET",
    "admin",
    summary="A webhook's deliveries, newest first",
    query=CURSOR,
    responses={
        200: page(
            obj(
                {
                    "id": ID,
                    "event_id": UUID,
                    "type": STRING,
                    "attempts": INTEGER,
                    "status": enum(WebhookDelivery.Status.values),
                    "last_response_code": nullable(INTEGER),
                    "last_attempt_at": nullable(DATETIME),
                }
            )
        ),
        400: None,
        404: None,
    },
)
def deliveries(call, pk):
    endpoint = found(call.business, pk)
    rows, next_cursor = queries.webhook_deliveries_api_page(endpoint, before=page_cursor(call.request))
    results = [queries.webhook_delivery_json(delivery) for delivery in rows]
    return 200, {"results": results, "next": str(next_cursor) if next_cursor else None}
