"""The preferences endpoints of the API: a customer's communication preferences and their
consent history."""

from django.core.exceptions import ValidationError

from customers.api.auth import ApiError
from customers.api.endpoints import CURSOR, endpoint, page_cursor, route
from customers.api.schemas import BOOLEAN, DATETIME, ID, STRING, enum, nullable, obj, page
from customers.models import Customer
from privacy import queries, services
from privacy.models import CONSENT_FIELDS, Channel, CommunicationPreference, ConsentEvent, Purpose

CONSENTS_PAGE = 100
# What an API key may give as the source of a change: not a staff member's act, nor what
# only the product itself does (sign-up defaults, merges).
API_SOURCES = [
    ConsentEvent.Source.API,
    ConsentEvent.Source.CHECKOUT,
    ConsentEvent.Source.CUSTOMER_REQUEST,
    ConsentEvent.Source.IMPORT,
]
HH_MM = {"type": "string", "description": "HH:MM", "pattern": r"^\d{2}:\d{2}$"}
PREFERENCE_FIELDS = {
    **dict.fromkeys(CONSENT_FIELDS, BOOLEAN),
    "frequency": enum(CommunicationPreference.Frequency.values),
    "preferred_channel": enum(CommunicationPreference.PreferredChannel.values),
}
PREFERENCES = obj(
    {
        **PREFERENCE_FIELDS,
        "timezone": {**STRING, "description": "The customer's own, else the business's"},
        "quiet_hours_start": nullable(HH_MM),
        "quiet_hours_end": nullable(HH_MM),
    }
)
# The service checks the values (a time zone it knows, "HH:MM" times) and names what is wrong.
PREFERENCES_INPUT = obj(
    optional={
        **PREFERENCE_FIELDS,
        "timezone": nullable({**STRING, "description": "An IANA name; null or empty for the customer's own"}),
        "quiet_hours_start": nullable({**STRING, "description": "HH:MM, with an end; null for none"}),
        "quiet_hours_end": nullable({**STRING, "description": "HH:MM, with a start; null for none"}),
        "source": enum(API_SOURCES, description="Where the change comes from; api unless said"),
        "evidence": nullable(
            {**STRING, "description": "What the customer agreed to: needed to grant a consent"}
        ),
    },
    additionalProperties=False,
)
CONSENT = obj(
    {
        "id": ID,
        "purpose": enum(Purpose.values),
        "channel": enum(Channel.values),
        "action": enum(ConsentEvent.Action.values),
        "source": enum(ConsentEvent.Source.values),
        "actor": nullable({**STRING, "description": "The staff member's username; null for the API"}),
        "evidence": STRING,
        "reference": STRING,
        "at": DATETIME,
    }
)


def customer_of(business, pk):
    customer = Customer.objects.filter(business=business, pk=pk).live().select_related("business").first()
    if customer is None:
        raise ApiError(404, {"customer": [f"No customer {pk} in this business."]})
    return customer


def messages_of(error):
    return {field: list(messages) for field, messages in error.message_dict.items()}


@endpoint(
    "GET",
    "privacy",
    summary="A customer's communication preferences",
    description="The defaults when nothing was recorded.",
    responses={200: PREFERENCES, 404: None},
)
def get_preferences(call, pk):
    customer = customer_of(call.business, pk)
    return 200, queries.preferences_json(queries.preferences_of(customer))


@endpoint(
    "PUT",
    "privacy",
    summary="Change some of a customer's communication preferences",
    description="Any subset of the record, with the `source` of the change and, to grant a consent, "
    "its `evidence`; answers the whole record.",
    body_schema=PREFERENCES_INPUT,
    responses={200: PREFERENCES, 400: None, 404: None},
)
def put_preferences(call, pk):
    customer = customer_of(call.business, pk)
    changes = dict(call.payload)
    source = changes.pop("source", ConsentEvent.Source.API)
    evidence = changes.pop("evidence", "")
    try:
        record = services.update_preferences(
            customer=customer, changes=changes, source=source, evidence=evidence, actor=None
        )
    except ValidationError as error:
        raise ApiError(400, messages_of(error)) from None
    return 200, queries.preferences_json(record)


customer_preferences = route(get_preferences, put_preferences)


@endpoint(
    "GET",
    "privacy",
    summary="A customer's consent history, newest first",
    query=CURSOR,
    responses={200: page(CONSENT), 400: None, 404: None},
)
def customer_consents(call, pk):
    customer = customer_of(call.business, pk)
    events, next_cursor = queries.consent_history(
        customer, before=page_cursor(call.request), limit=CONSENTS_PAGE
    )
    return 200, {
        "results": [queries.consent_json(event) for event in events],
        "next": str(next_cursor) if next_cursor else None,
    }
