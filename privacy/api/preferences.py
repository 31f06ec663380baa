"""The preferences endpoints of the API: a customer's communication preferences and their
consent history."""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from customers.api.auth import ApiError, authenticate, json_response, read_json_object
from customers.models import Customer
from privacy import queries, services
from privacy.models import ConsentEvent

CONSENTS_PAGE = 100
# What an API key may give as the source of a change: not a staff member's act, nor what
# only the product itself does (sign-up defaults, merges).
API_SOURCES = [
    ConsentEvent.Source.API,
    ConsentEvent.Source.CHECKOUT,
    ConsentEvent.Source.CUSTOMER_REQUEST,
    ConsentEvent.Source.IMPORT,
]


def customer_of(business, pk):
    customer = Customer.objects.filter(business=business, pk=pk).live().select_related("business").first()
    if customer is None:
        raise ApiError(404, {"customer": [f"No customer {pk} in this business."]})
    return customer


def messages_of(error):
    return {field: list(messages) for field, messages in error.message_dict.items()}


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "PUT"])
def customer_preferences(request, pk):
    """`GET customers/{id}/preferences` -> the whole record (seed 004's names, quiet hours
    "HH:MM" or null; the defaults when nothing was recorded); `PUT` any subset of it with
    "source" (api unless said) and "evidence" (required to grant a consent) -> 200 with the
    whole record."""
    try:
        customer = customer_of(authenticate(request).business, pk)
        if request.method == "GET":
            return json_response(200, queries.preferences_json(queries.preferences_of(customer)))
        payload = read_json_object(request)
        source = payload.pop("source", ConsentEvent.Source.API)
        evidence = payload.pop("evidence", "")
        if source not in API_SOURCES:
            raise ApiError(400, {"source": [f"Enter one of: {', '.join(API_SOURCES)}."]})
        if not isinstance(evidence, str | None):
            raise ApiError(400, {"evidence": ["Enter a string."]})
        try:
            record = services.update_preferences(
                customer=customer, changes=payload, source=source, evidence=evidence, actor=None
            )
        except ValidationError as error:
            raise ApiError(400, messages_of(error)) from None
    except ApiError as error:
        return error.response()
    return json_response(200, queries.preferences_json(record))


@login_not_required
@require_GET
def customer_consents(request, pk):
    """`GET customers/{id}/consents[?cursor=...]` -> {"results": [{"id", "purpose", "channel",
    "action", "source", "actor", "evidence", "reference", "at"}], "next": cursor-or-null},
    newest first."""
    try:
        customer = customer_of(authenticate(request).business, pk)
        cursor = request.GET.get("cursor")
        if cursor is not None and not cursor.isdigit():
            raise ApiError(400, {"cursor": ["Pass the “next” value of the previous page."]})
        events, next_cursor = queries.consent_history(
            customer, before=int(cursor) if cursor else None, limit=CONSENTS_PAGE
        )
    except ApiError as error:
        return error.response()
    return json_response(
        200,
        {
            "results": [queries.consent_json(event) for event in events],
            "next": str(next_cursor) if next_cursor else None,
        },
    )
