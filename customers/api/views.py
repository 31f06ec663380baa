"""The API's endpoints: orders, merge and jobs."""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from customers import jobs, services
from customers.api.auth import ApiError, authenticate, json_response, messages_by_field, read_json_object
from customers.api.forms import MergeForm, OrderForm
from customers.models import Customer, Job


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
        },
    )


def record_order(business, order):
    """services.record_order, with its refusals (an invalid phone, too many addresses) as 400s."""
    try:
        return services.record_order(business=business, actor=None, **order)
    except ValidationError as error:
        errors = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
        raise ApiError(400, errors) from None


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
