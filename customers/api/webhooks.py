"""The webhook endpoints of the API (issue 15's contracts):

- `POST webhooks` {"url", "events": [...] or ["*"], "secret"} -> 201 {"id", "url", "events", "active"};
  `GET webhooks` -> {"results": [...], "next": null}
- `GET/PUT/DELETE webhooks/{id}` (PUT takes the POST's fields and "active"; without "secret" the
  secret stays) -> 200 / 200 / 204
- `POST webhooks/{id}/test` -> 202 {"delivery_id"}: a `webhook.test` event to this endpoint
- `GET webhooks/{id}/deliveries[?cursor=]` -> {"results": [{"id", "event_id", "type", "attempts",
  "status", "last_response_code", "last_attempt_at"}], "next": cursor-or-null}, newest first

The secret is never returned. Another business's endpoint answers 404."""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers import queries, services
from customers.api.auth import ApiError, authenticate, json_response, read_json_object
from customers.models import WebhookEndpoint

FIELDS = {"url", "events", "secret", "active"}


def found(business, pk):
    endpoint = WebhookEndpoint.objects.filter(business=business, pk=pk).first()
    if endpoint is None:
        raise ApiError(404, {"webhook": [f"No webhook {pk} in this business."]})
    return endpoint


def endpoint_fields(payload, *, secret_required):
    unknown = sorted(set(payload) - FIELDS)
    if unknown:
        raise ApiError(400, {name: ["Not a field of a webhook."] for name in unknown})
    active = payload.get("active", True)
    if type(active) is not bool:
        raise ApiError(400, {"active": ["Enter true or false."]})
    if secret_required and "secret" not in payload:
        raise ApiError(400, {"secret": ["Give a secret: every delivery is signed with it."]})
    return {
        "url": payload.get("url"),
        "events": payload.get("events"),
        "secret": payload.get("secret"),
        "active": active,
    }


def refused(error):
    return ApiError(400, {field: messages for field, messages in error.message_dict.items()})


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST"])
def webhooks(request):
    try:
        business = authenticate(request).business
        if request.method == "GET":
            endpoints = [queries.webhook_endpoint_json(e) for e in queries.webhook_endpoints(business)]
            return json_response(200, {"results": endpoints, "next": None})
        fields = endpoint_fields(read_json_object(request), secret_required=True)
        try:
            endpoint = services.create_endpoint(business=business, actor=None, **fields)
        except ValidationError as error:
            raise refused(error) from None
    except ApiError as error:
        return error.response()
    return json_response(201, queries.webhook_endpoint_json(endpoint))


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "PUT", "DELETE"])
def webhook(request, pk):
    try:
        business = authenticate(request).business
        endpoint = found(business, pk)
        if request.method == "DELETE":
            services.delete_endpoint(endpoint=endpoint, actor=None)
            return HttpResponse(status=204)
        if request.method == "PUT":
            fields = endpoint_fields(read_json_object(request), secret_required=False)
            try:
                endpoint = services.update_endpoint(endpoint=endpoint, actor=None, **fields)
            except ValidationError as error:
                raise refused(error) from None
    except ApiError as error:
        return error.response()
    return json_response(200, queries.webhook_endpoint_json(endpoint))


@csrf_exempt
@login_not_required
@require_POST
def test(request, pk):
    try:
        endpoint = found(authenticate(request).business, pk)
        try:
            delivery = services.send_test_event(endpoint=endpoint, actor=None)
        except ValidationError as error:
            raise ApiError(409, {"webhook": error.messages}) from None
    except ApiError as error:
        return error.response()
    return json_response(202, {"delivery_id": delivery.pk, "event_id": str(delivery.event.uid)})


@login_not_required
@require_GET
def deliveries(request, pk):
    try:
        endpoint = found(authenticate(request).business, pk)
        cursor = request.GET.get("cursor")
        if cursor is not None and not cursor.isdigit():
            raise ApiError(400, {"cursor": ["Pass the “next” value of the previous page."]})
        rows, next_cursor = queries.webhook_deliveries_api_page(
            endpoint, before=int(cursor) if cursor else None
        )
    except ApiError as error:
        return error.response()
    results = [queries.webhook_delivery_json(delivery) for delivery in rows]
    return json_response(200, {"results": results, "next": str(next_cursor) if next_cursor else None})
