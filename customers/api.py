"""The order ingestion API that partner apps and storefront checkouts call.

`POST /api/v1/orders` with `Authorization: Bearer <key>` and a JSON object; see the
contract under "Commands" in README.md. The view authenticates, reads at most MAX_BODY_BYTES, lets
OrderForm check the payload and hands it to `services.record_order`.

Every field is checked against what its column holds (customers/normalize.py), so bad
input is a 400 and never a 500: `placed_at` lies between 1970-01-01 and a day from now,
with a UTC offset of at most ±15:59; texts hold no NUL character or lone surrogate;
numbers use the digits 0-9 and fit their column. See the README's API section.
"""

import json
from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import RegexValidator
from django.db.models import Q
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from customers import jobs, normalize, services
from customers.models import ApiKey, Customer, Dropoff, Job, Order, OrderItem

MAX_BODY_BYTES = 1024 * 1024
MAX_ITEMS = 500
MAX_MERGED = 50
LAST_USED_PRECISION = timedelta(seconds=60)
COORDINATE_PLACES = Decimal("0.000001")


# Fields that take JSON values as they come -------------------------------------------


class JsonStringMixin:
    """A JSON string (or null). Django's fields would turn a number, list or object into
    text, or take `[]` and `{}` for an empty value; here that is a client error. The text
    must be storable (normalize.validate_text)."""

    def to_python(self, value):
        if value is not None:
            if not isinstance(value, str):
                raise ValidationError("Enter a string.", code="invalid")
            normalize.validate_text(value)
        return super().to_python(value)


class TextField(JsonStringMixin, forms.CharField):
    pass


class EmailTextField(TextField, forms.EmailField):
    pass


class TextChoiceField(JsonStringMixin, forms.ChoiceField):
    pass


class NumberField(forms.DecimalField):
    """A JSON number, or a string of the digits 0-9 (not "٤٢", not true)."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        return super().to_python(normalize.parse_decimal(value))


class WholeNumberField(forms.IntegerField):
    def to_python(self, value):
        if value in (None, ""):
            return None
        return super().to_python(normalize.parse_whole_number(value))


class IsoDateTimeField(forms.DateTimeField):
    """An ISO 8601 string only, not the locale formats of form input (normalize.parse_datetime);
    a time without offset is read in TIME_ZONE."""

    def to_python(self, value):
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ValidationError(
                "Enter an ISO 8601 date and time, e.g. 2026-11-01T12:00:00Z.", code="invalid"
            )
        return super().to_python(normalize.parse_datetime(value))


class NestedFormField(forms.Field):
    """A JSON object checked by `form_class`; its errors come back as "field: message"."""

    def __init__(self, form_class, **kwargs):
        self.form_class = form_class
        super().__init__(**kwargs)

    def to_python(self, value):
        if value is None:
            return None
        return clean_nested(self.form_class, value)


class NestedFormListField(forms.Field):
    """A JSON list of objects, each checked by `form_class`."""

    def __init__(self, form_class, max_length, **kwargs):
        self.form_class, self.max_length = form_class, max_length
        super().__init__(**kwargs)

    def to_python(self, value):
        if value is None:
            return []
        if not isinstance(value, list):
            raise ValidationError("Enter a list of objects.", code="invalid")
        if len(value) > self.max_length:
            raise ValidationError(f"Send at most {self.max_length} entries.", code="max_length")
        cleaned, errors = [], []
        for position, entry in enumerate(value, start=1):
            try:
                cleaned.append(clean_nested(self.form_class, entry))
            except ValidationError as error:
                errors.extend(f"Entry {position}: {message}" for message in error.messages)
        if errors:
            raise ValidationError(errors)
        return cleaned


def clean_nested(form_class, value):
    if not isinstance(value, dict):
        raise ValidationError("Enter an object.", code="invalid")
    form = form_class(value)
    if not form.is_valid():
        raise ValidationError(
            [f"{field}: {message}" for field, messages in form.errors.items() for message in messages]
        )
    return form.cleaned_data


# Forms --------------------------------------------------------------------------------

country_code = RegexValidator(r"^[A-Za-z]{2}$", "Enter a two-letter ISO 3166 country code.")
currency_code = RegexValidator(r"^[A-Za-z]{3}$", "Enter a three-letter ISO 4217 currency code.")


def text(model, name, **kwargs):
    """A TextField as long as the model field's column."""
    return TextField(max_length=model._meta.get_field(name).max_length, **kwargs)


def number(model, name, **kwargs):
    """A NumberField with the model field's digits and decimals."""
    column = model._meta.get_field(name)
    return NumberField(max_digits=column.max_digits, decimal_places=column.decimal_places, **kwargs)


class AddressForm(forms.Form):
    street = text(Dropoff, "street")
    street2 = text(Dropoff, "street2", required=False)
    city = text(Dropoff, "city", required=False)
    state = text(Dropoff, "state", required=False)
    postal_code = text(Dropoff, "postal_code", required=False)
    country = text(Dropoff, "country", required=False, validators=[country_code])
    lat = NumberField(min_value=-90, max_value=90, required=False)
    lng = NumberField(min_value=-180, max_value=180, required=False)

    def clean_lat(self):
        return self._coordinate("lat")

    def clean_lng(self):
        return self._coordinate("lng")

    def _coordinate(self, name):
        # Devices report more decimals than the 6 stored (about 10 cm); round, don't refuse.
        value = self.cleaned_data[name]
        return None if value is None else value.quantize(COORDINATE_PLACES)


class ItemForm(forms.Form):
    sku = text(OrderItem, "sku", required=False)
    name = text(OrderItem, "name")
    category = text(OrderItem, "category", required=False)
    quantity = WholeNumberField(min_value=1, max_value=OrderItem.MAX_QUANTITY)
    price = number(OrderItem, "price", min_value=0)


class OrderForm(forms.Form):
    CALLER_STATUSES = [
        (status, label) for status, label in Order.Status.choices if status != Order.Status.BLOCKED
    ]

    external_id = text(Order, "external_id")
    phone = TextField(max_length=50)
    first_name = text(Customer, "first_name", required=False)
    last_name = text(Customer, "last_name", required=False)
    email = EmailTextField(max_length=Customer._meta.get_field("email").max_length, required=False)
    amount = number(Order, "amount", min_value=0)
    currency = text(Order, "currency", required=False, validators=[currency_code])
    placed_at = IsoDateTimeField(required=False, validators=[normalize.validate_order_time])
    status = TextChoiceField(choices=CALLER_STATUSES, required=False)
    source = text(Order, "source", required=False)
    address = NestedFormField(AddressForm, required=False)
    items = NestedFormListField(ItemForm, max_length=MAX_ITEMS, required=False)

    def clean_status(self):
        return self.cleaned_data["status"] or Order.Status.COMPLETED


# View ---------------------------------------------------------------------------------


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


@csrf_exempt
@login_not_required
@require_POST
def orders(request):
    try:
        api_key = authenticate(request)
        form = OrderForm(read_json_object(request))
        if not form.is_valid():
            raise ApiError(400, messages_by_field(form.errors))
        recorded = record_order(api_key.business, form.cleaned_data)
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
    ApiKey.objects.filter(pk=api_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
    ).update(last_used_at=now)
    return api_key


def read_json_object(request):
    """The body as a dict, reading no more than MAX_BODY_BYTES whatever the client declares."""
    too_large = ApiError(413, {"body": ["The request body is over 1 MB."]})
    try:
        declared_length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared_length = 0
    if declared_length > MAX_BODY_BYTES:
        raise too_large
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise too_large
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise ApiError(400, {"body": ["The request body is not valid JSON."]}) from None
    if not isinstance(payload, dict):
        raise ApiError(400, {"body": ["Send one JSON object."]})
    return payload


def record_order(business, order):
    """services.record_order, with its refusals (an invalid phone, too many addresses) as 400s."""
    try:
        return services.record_order(business=business, actor=None, **order)
    except ValidationError as error:
        errors = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
        raise ApiError(400, errors) from None


def messages_by_field(errors):
    return {
        field: [error["message"] for error in entries] for field, entries in errors.get_json_data().items()
    }


def json_response(status, data):
    response = JsonResponse(data, status=status)
    response["Cache-Control"] = "no-store"
    return response


# Merge --------------------------------------------------------------------------------


# Ids are JSON integers, as the API returns them: not "7", 7.0 or true.
MAX_ID = 2**63 - 1


def is_id(value):
    return type(value) is int and 0 < value <= MAX_ID


class CustomerIdField(forms.Field):
    def to_python(self, value):
        if value is not None and not is_id(value):
            raise ValidationError("Enter a whole number.", code="invalid")
        return value


class IdListField(forms.Field):
    """A JSON list of customer ids."""

    def to_python(self, value):
        if value in (None, []):
            return []
        if not isinstance(value, list) or not all(is_id(pk) for pk in value):
            raise ValidationError("Enter a list of customer ids.", code="invalid")
        if len(value) > MAX_MERGED:
            raise ValidationError(f"Merge at most {MAX_MERGED} customers at once.", code="max_length")
        return sorted(set(value))


class FieldChoicesField(forms.Field):
    """An optional JSON object {profile field: id of the customer whose value is kept}."""

    def to_python(self, value):
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(is_id(pk) for pk in value.values()):
            raise ValidationError("Enter an object of field names and customer ids.", code="invalid")
        unknown = sorted(set(value) - set(services.MERGE_FIELDS))
        if unknown:
            raise ValidationError(f"A merge cannot choose {', '.join(unknown)}.", code="invalid")
        return value


class MergeForm(forms.Form):
    survivor_id = CustomerIdField()
    merged_ids = IdListField()
    reason = TextField(max_length=1000)
    field_choices = FieldChoicesField(required=False)


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


# Jobs ---------------------------------------------------------------------------------


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
