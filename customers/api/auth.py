"""What every API endpoint does around its work: the key authentication, reading the JSON
body, and the JSON responses, errors included."""

import json
from datetime import timedelta

from django.db.models import Q
from django.http import JsonResponse
from django.utils import timezone

from customers import replicas, services
from customers.models import ApiKey

MAX_BODY_BYTES = 1024 * 1024
LAST_USED_PRECISION = timedelta(seconds=60)


class ApiError(Exception):
    """Ends a request with `{"errors": {field: [messages]}}` and this status."""

    def __init__(self, status, errors):
        super().__init__(status, errors)
        self.status, self.errors = status, errors

    def response(self):
        response = json_response(self.status, {"errors": self.errors})
        if self.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response


def authenticate(request):
    """The request's live API key; ApiError 401 without one."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        message = "Send the business's API key as “Authorization: Bearer <key>”."
        raise ApiError(401, {"authorization": [message]})
    api_key = services.authenticate_api_key(secret.strip())
    if api_key is None:
        raise ApiError(401, {"authorization": ["This API key is not valid or has been revoked."]})
    now = timezone.now()
    # At most one write a minute per key, however busy it is; the key just read tells
    # whether one is due without asking the database again.
    if api_key.last_used_at is not None and api_key.last_used_at >= now - LAST_USED_PRECISION:
        return api_key
    # In degraded mode reads still answer; the key's last use waits for the primary.
    if replicas.writes_paused():
        return api_key
    ApiKey.objects.filter(pk=api_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
    ).update(last_used_at=now)
    return api_key


def read_json_object(request, max_bytes=MAX_BODY_BYTES):
    """The body as a dict, reading no more than `max_bytes` whatever the client declares."""
    too_large = ApiError(413, {"body": [f"The request body is over {max_bytes // (1024 * 1024)} MB."]})
    try:
        declared_length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared_length = 0
    if declared_length > max_bytes:
        raise too_large
    body = request.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise too_large
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise ApiError(400, {"body": ["The request body is not valid JSON."]}) from None
    if not isinstance(payload, dict):
        raise ApiError(400, {"body": ["Send one JSON object."]})
    return payload


def messages_by_field(errors):
    return {
        field: [error["message"] for error in entries] for field, entries in errors.get_json_data().items()
    }


def json_response(status, data):
    response = JsonResponse(data, status=status)
    response["Cache-Control"] = "no-store"
    return response
