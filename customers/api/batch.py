"""POST /api/v1/orders/batch: up to 1,000 orders of POST /api/v1/orders in one request,
recorded set-based (services.record_orders), each answered on its own."""

import jsonschema_rs

from customers import services
from customers.api import responses, schemas
from customers.api.auth import messages_by_field
from customers.api.endpoints import endpoint, schema_errors
from customers.api.forms import OrderForm

MAX_ORDERS = 1000
# 1,000 orders of a few kB each, with room for long item lists; one order alone has 1 MB.
MAX_BODY_BYTES = 8 * 1024 * 1024
ORDER_VALIDATOR = jsonschema_rs.Draft202012Validator(schemas.form_schema(OrderForm))
BODY = {
    "type": "object",
    "properties": {
        "orders": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_ORDERS,
            "items": {"type": "object"},
            "description": "Orders in the request body's format of POST /api/v1/orders, each checked "
            "on its own: an order that is not valid there is a 400 result here, and the others are "
            "recorded.",
        }
    },
    "required": ["orders"],
}


@endpoint(
    "POST",
    "orders:write",
    summary="Record a batch of orders",
    description="Up to 1,000 orders of POST /api/v1/orders, recorded together with its rules. "
    'One result per order, in order: `{"status": 201, ...ids}` for an order recorded now, '
    "200 with the same ids for an external_id recorded already (or earlier in the batch), "
    '`{"status": 400, "errors": {...}}` for an order refused; a refused order never stops the '
    "others. The body may have up to 8 MB.",
    body_schema=BODY,
    max_body_bytes=MAX_BODY_BYTES,
    responses={200: responses.BATCH_RESULTS, 400: None, 413: None},
)
def orders_batch(call):
    results = [None] * len(call.payload["orders"])
    valid = []
    for position, item in enumerate(call.payload["orders"]):
        form = OrderForm(item)
        # As POST /api/v1/orders checks its body: the form, then the schema.
        errors = (
            messages_by_field(form.errors) if not form.is_valid() else schema_errors(ORDER_VALIDATOR, item)
        )
        if errors:
            results[position] = {"status": 400, "errors": errors}
        else:
            valid.append((position, form.order()))
    outcomes = services.record_orders(
        business=call.business, orders=[order for _, order in valid], actor=None
    )
    for (position, _), outcome in zip(valid, outcomes, strict=True):
        results[position] = result_json(outcome)
    return 200, {"results": results}


def result_json(outcome):
    if outcome.status == 400:
        return {"status": 400, "errors": outcome.errors}
    return {
        "status": outcome.status,
        "order_id": outcome.order.pk,
        "customer_id": outcome.order.customer_id,
        "customer_created": outcome.customer_created,
        "blocked": outcome.blocked,
    }
