"""The API's endpoints: orders, their payments and refunds, merge and jobs."""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from customers import jobs, queries, services
from customers.api.auth import ApiError, authenticate, json_response, messages_by_field, read_json_object
from customers.api.forms import MergeForm, OrderForm, PaymentForm, RefundForm
from customers.models import Customer, Job, Order, Payment


@csrf_exempt
@login_not_required
@require_POST
def orders(request):
    try:
        api_key = authenticate(request)
        form = OrderForm(read_json_object(request))
        if not form.is_valid():
            raise ApiError(400, messages_by_field(form.errors))
        recorded = record_order(api_key.business, form.order())
    except ApiError as error:
        return error.response()

    return json_response(
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


@login_not_required
@require_GET
def order(request, pk):
    """`GET /api/v1/orders/{id}` -> 200 the order with its items, payments and their refunds,
    and its paid, refunded and outstanding amounts."""
    try:
        api_key = authenticate(request)
        order = queries.order_with_payments(Order.objects.filter(business=api_key.business), pk)
        if order is None:
            raise ApiError(404, {"order": [f"No order {pk} in this business."]})
    except ApiError as error:
        return error.response()
    payments = order.listed_payments
    return json_response(
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


@csrf_exempt
@login_not_required
@require_POST
def order_payments(request, pk):
    """`POST /api/v1/orders/{id}/payments` one payment -> 201 {"payment_id", ...the payment};
    200 with the same body for its transaction id again; 400 for a transaction id of another order."""
    try:
        api_key = authenticate(request)
        order = found(Order.objects.filter(business=api_key.business).select_related("customer"), pk, "order")
        form = PaymentForm(read_json_object(request))
        if not form.is_valid():
            raise ApiError(400, messages_by_field(form.errors))
        added = call_service(services.add_payment, order=order, actor=None, **form.cleaned_data)
    except ApiError as error:
        return error.response()
    payment = added.payment
    return json_response(
        201 if added.created else 200,
        {
            "payment_id": payment.pk,
            "order_id": payment.order_id,
            **payment_json(payment),
            "cod_unverified": queries.cod_unverified(order.customer, [payment]),
        },
    )


@csrf_exempt
@login_not_required
@require_POST
def payment_refunds(request, pk):
    """`POST /api/v1/payments/{id}/refunds` {"amount", "reason"} -> 201 {"refund_id",
    "payment": {...}, "order": {...}}; 400 past what the payment has left to refund."""
    try:
        api_key = authenticate(request)
        payment = found(Payment.objects.filter(business=api_key.business), pk, "payment")
        form = RefundForm(read_json_object(request))
        if not form.is_valid():
            raise ApiError(400, messages_by_field(form.errors))
        result = call_service(
            services.refund_payment, payment=payment, actor=None, source="api", **form.cleaned_data
        )
    except ApiError as error:
        return error.response()
    payment = result.payment
    return json_response(
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


@csrf_exempt
@login_not_required
@require_POST
def merge(request):
    """`POST /api/v1/customers/merge` {"survivor_id", "merged_ids", "reason"[, "field_choices"]}
    -> 200 {"merge_id", "survivor_id", "merged_ids"}; 404 for ids not of this business, 409
    when the customers cannot be merged as they are now, 400 for bad input."""
    try:
        api_key = authenticate(request)
        form = MergeForm(read_json_object(request))
        if not form.is_valid():
            raise ApiError(400, messages_by_field(form.errors))
        record = merge_customers(api_key.business, form.cleaned_data)
    except ApiError as error:
        return error.response()
    return json_response(
        200, {"merge_id": record.pk, "survivor_id": record.survivor_id, "merged_ids": record.merged_ids}
    )


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


@login_not_required
@require_GET
def job(request, pk):
    """`GET /api/v1/jobs/{id}` -> 200 {"id", "kind", "status", "rows_done", "total_rows",
    "failure"} for any job of the key's business, whatever its kind (see customers.jobs);
    404 for another business's."""
    try:
        api_key = authenticate(request)
        found = jobs.with_kinds(Job.objects.filter(business=api_key.business, pk=pk)).first()
        if found is None:
            raise ApiError(404, {"job": [f"No job {pk} in this business."]})
    except ApiError as error:
        return error.response()
    return json_response(200, jobs.api_json(found))
