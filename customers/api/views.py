"""The API's endpoints: orders, their payments and refunds, merge and jobs."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from customers import jobs, queries, services
from customers.api import responses
from customers.api.auth import ApiError
from customers.api.endpoints import endpoint
from customers.api.forms import MergeForm, OrderForm, PaymentForm, RefundForm
from customers.models import Customer, Job, Order, Payment


@endpoint(
    "POST",
    "orders:write",
    summary="Record an order",
    description="Identity by phone: an unknown phone creates the customer. Idempotent by external_id: "
    "the same external_id again answers 200 with the first answer's ids.",
    body=OrderForm,
    responses={201: responses.ORDER_RECORDED, 200: responses.ORDER_RECORDED, 400: None},
)
def orders(call):
    recorded = record_order(call.business, call.form.order())
    return (
        201 if recorded.created else 200,
        {
            "order_id": recorded.order.pk,
            "customer_id": recorded.order.customer_id,
            "customer_created": recorded.customer_created,
            "blocked": recorded.blocked,
            "payment_ids": [payment.pk for payment in recorded.payments],
            "cod_unverified": queries.cod_unverified(recorded.order.customer, recorded.payments),
        },
    )


def record_order(business, order):
    """services.record_order, with its refusals (an invalid phone, too many addresses, a
    transaction id of another order) as 400s."""
    return call_service(services.record_order, business=business, actor=None, **order)


def call_service(service, **arguments):
    """A service call whose refusals (ValidationError) are 400s, field by field."""
    try:
        return service(**arguments)
    except ValidationError as error:
        errors = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
        raise ApiError(400, errors) from None


def money(value):
    return f"{value:.2f}"


def time(value):
    return value.isoformat() if value else None


def payment_json(payment):
    return {
        "id": payment.pk,
        "transaction_id": payment.transaction_id,
        "amount": money(payment.amount),
        "currency": payment.currency,
        "method": payment.method,
        "status": payment.status,
        "provider": payment.provider,
        "processed_at": time(payment.processed_at),
        "refunded": money(payment.refunded_amount),
    }


def order_money_json(order, order_money):
    return {
        "id": order.pk,
        "status": order.status,
        "paid": money(order_money.paid),
        "refunded": money(order_money.refunded),
        "outstanding": money(order_money.outstanding),
    }


def found(queryset, pk, name):
    """The object of the key's business, or a 404 (another business's objects do not exist here)."""
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise ApiError(404, {name: [f"No {name} {pk} in this business."]})
    return obj


@endpoint(
    "GET",
    "customers:read",
    summary="An order with its items, payments and refunds",
    responses={200: responses.ORDER, 404: None},
)
def order(call, pk):
    """The order with its paid, refunded and outstanding amounts."""
    order = queries.order_with_payments(Order.objects.filter(business=call.business), pk)
    if order is None:
        raise ApiError(404, {"order": [f"No order {pk} in this business."]})
    payments = order.listed_payments
    return (
        200,
        {
            **order_money_json(order, queries.money_of(order, payments)),
            "external_id": order.external_id,
            "customer_id": order.customer_id,
            "amount": money(order.amount),
            "currency": order.currency,
            "placed_at": time(order.placed_at),
            "completed_at": time(order.completed_at),
            "created_at": time(order.created_at),
            "source": order.source,
            "cod_unverified": queries.cod_unverified(order.customer, payments),
            "items": [
                {
                    "sku": item.sku,
                    "name": item.name,
                    "category": item.category,
                    "quantity": item.quantity,
                    "price": money(item.price),
                }
                for item in order.listed_items
            ],
            "payments": [
                {
                    **payment_json(payment),
                    "refunds": [
                        {
                            "id": refund.pk,
                            "amount": money(refund.amount),
                            "reason": refund.reason,
                            "source": refund.source,
                            "created_at": time(refund.created_at),
                        }
                        for refund in payment.listed_refunds
                    ],
                }
                for payment in payments
            ],
        },
    )


@endpoint(
    "POST",
    "orders:write",
    summary="Add a payment to an order",
    description="201 with the payment; 200 with the same body for its transaction id again; "
    "400 for a transaction id of another order.",
    body=PaymentForm,
    responses={201: responses.PAYMENT_ADDED, 200: responses.PAYMENT_ADDED, 400: None, 404: None},
)
def order_payments(call, pk):
    order = found(Order.objects.filter(business=call.business).select_related("customer"), pk, "order")
    added = call_service(services.add_payment, order=order, actor=None, **call.data)
    payment = added.payment
    return (
        201 if added.created else 200,
        {
            "payment_id": payment.pk,
            "order_id": payment.order_id,
            **payment_json(payment),
            "cod_unverified": queries.cod_unverified(order.customer, [payment]),
        },
    )


@endpoint(
    "POST",
    "orders:write",
    summary="Refund a payment, in part or in full",
    description="400 past what the payment has left to refund.",
    body=RefundForm,
    responses={201: responses.REFUNDED, 400: None, 404: None},
)
def payment_refunds(call, pk):
    payment = found(Payment.objects.filter(business=call.business), pk, "payment")
    result = call_service(services.refund_payment, payment=payment, actor=None, source="api", **call.data)
    payment = result.payment
    return (
        201,
        {
            "refund_id": result.refund.pk,
            "payment": {
                "id": payment.pk,
                "status": payment.status,
                "amount": money(payment.amount),
                "refunded": money(payment.refunded_amount),
            },
            "order": order_money_json(result.order, result.money),
        },
    )


@endpoint(
    "POST",
    "customers:write",
    summary="Merge customers into a survivor",
    description="404 for ids not of this business, 409 when the customers cannot be merged as they "
    "are now (one already merged, say).",
    body=MergeForm,
    responses={200: responses.MERGED, 400: None, 404: None, 409: None},
)
def merge(call):
    record = merge_customers(call.business, call.data)
    return 200, {"merge_id": record.pk, "survivor_id": record.survivor_id, "merged_ids": record.merged_ids}


def merge_customers(business, data):
    ids = [data["survivor_id"], *data["merged_ids"]]
    customers = Customer.objects.filter(business=business).in_bulk(ids)
    missing = [pk for pk in ids if pk not in customers]
    if missing:
        raise ApiError(404, {"customers": [f"No customer {pk} in this business." for pk in missing]})
    try:
        return services.merge_customers(
            survivor=customers[data["survivor_id"]],
            merged=[customers[pk] for pk in data["merged_ids"]],
            field_choices=data["field_choices"],
            reason=data["reason"],
            actor=None,
        )
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            raise ApiError(400, error.message_dict) from None
        conflict = any(item.code == services.CONFLICT for item in error.error_list)
        raise ApiError(409 if conflict else 400, {NON_FIELD_ERRORS: error.messages}) from None


@endpoint(
    "GET",
    "customers:read",
    summary="A background job's progress",
    description="Any job of the business, whatever its kind (imports, exports, recalculations).",
    responses={200: responses.JOB, 404: None},
)
def job(call, pk):
    found = jobs.with_kinds(Job.objects.filter(business=call.business, pk=pk)).first()
    if found is None:
        raise ApiError(404, {"job": [f"No job {pk} in this business."]})
    return 200, jobs.api_json(found)
