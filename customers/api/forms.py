"""The API's forms: fields that take JSON values as they come, and the forms of the order
and merge payloads."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from customers import choices, normalize, services
from customers.forms import IsoDateField
from customers.merge_registry import MAX_MERGED_AT_ONCE
from customers.models import Customer, Dropoff, Order, OrderItem, Payment, Refund, validate_date_of_birth
from customers.signals import OPT_IN_FIELDS

MAX_ITEMS = 500
MAX_PAYMENTS = 50
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


class DateTextField(JsonStringMixin, IsoDateField):
    """A JSON string YYYY-MM-DD (or null)."""


class JsonBooleanField(forms.Field):
    """A JSON true or false, or null for not given (not "yes", 1 or "true")."""

    def to_python(self, value):
        if value is not None and type(value) is not bool:
            raise ValidationError("Enter true or false.", code="invalid")
        return value


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


class SharedFields(dict):
    def __deepcopy__(self, memo):
        return self


class SharedFieldsMetaclass(forms.forms.DeclarativeFieldsMetaclass):
    def __new__(mcs, name, bases, attrs):
        form_class = super().__new__(mcs, name, bases, attrs)
        form_class.base_fields = SharedFields(form_class.base_fields)
        return form_class


class SharedFieldsForm(forms.Form, metaclass=SharedFieldsMetaclass):
    """A form whose instances share the class's fields. Django deep-copies them for each
    instance, in case one changes its fields: these forms never do, and the copy was most of
    the cost of checking an order (a batch checks up to 1,000, each with its address and items)."""


country_code = RegexValidator(r"^[A-Za-z]{2}$", "Enter a two-letter ISO 3166 country code.")
currency_code = RegexValidator(r"^[A-Za-z]{3}$", "Enter a three-letter ISO 4217 currency code.")


def text(model, name, **kwargs):
    """A TextField as long as the model field's column."""
    return TextField(max_length=model._meta.get_field(name).max_length, **kwargs)


def number(model, name, **kwargs):
    """A NumberField with the model field's digits and decimals."""
    column = model._meta.get_field(name)
    return NumberField(max_digits=column.max_digits, decimal_places=column.decimal_places, **kwargs)


class AddressForm(SharedFieldsForm):
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


class ItemForm(SharedFieldsForm):
    sku = text(OrderItem, "sku", required=False)
    name = text(OrderItem, "name")
    category = text(OrderItem, "category", required=False)
    quantity = WholeNumberField(min_value=1, max_value=OrderItem.MAX_QUANTITY)
    price = number(OrderItem, "price", min_value=0)


class PaymentForm(SharedFieldsForm):
    """One payment, in an order's `payments` or on its own (POST orders/{id}/payments)."""

    REPORTED_STATUSES = [(status, Payment.Status(status).label) for status in Payment.REPORTED_STATUSES]

    transaction_id = text(Payment, "transaction_id")
    amount = number(Payment, "amount", min_value=Decimal("0.01"))
    currency = text(Payment, "currency", required=False, validators=[currency_code])
    method = TextChoiceField(choices=Payment.Method.choices)
    status = TextChoiceField(choices=REPORTED_STATUSES, required=False)
    provider = text(Payment, "provider", required=False)
    processed_at = IsoDateTimeField(required=False, validators=[normalize.validate_order_time])

    def clean_status(self):
        return self.cleaned_data["status"] or Payment.Status.SUCCEEDED


class PaymentListField(NestedFormListField):
    """An order's `payments`: each transaction id once (the batch endpoint's orders too)."""

    def __init__(self, **kwargs):
        super().__init__(PaymentForm, max_length=MAX_PAYMENTS, **kwargs)

    def to_python(self, value):
        payments = super().to_python(value)
        ids = [payment["transaction_id"] for payment in payments]
        repeated = sorted({transaction_id for transaction_id in ids if ids.count(transaction_id) > 1})
        if repeated:
            raise ValidationError(
                [f"Transaction id “{transaction_id}” is given more than once." for transaction_id in repeated]
            )
        return payments


class RefundForm(forms.Form):
    amount = number(Refund, "amount", min_value=Decimal("0.01"))
    reason = TextField(max_length=1000, required=False)


class OrderForm(SharedFieldsForm):
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
    payments = PaymentListField(required=False)
    marketing_opt_in = JsonBooleanField(required=False)
    email_opt_in = JsonBooleanField(required=False)
    sms_opt_in = JsonBooleanField(required=False)

    def clean_status(self):
        return self.cleaned_data["status"] or Order.Status.COMPLETED

    def order(self):
        """The order's fields for record_order, with the opt-ins given as `opt_ins`."""
        order = {name: value for name, value in self.cleaned_data.items() if name not in OPT_IN_FIELDS}
        order["opt_ins"] = {
            name: self.cleaned_data[name] for name in OPT_IN_FIELDS if self.cleaned_data[name] is not None
        }
        return order


# Customers ----------------------------------------------------------------------------


class CustomerForm(forms.Form):
    """A customer as POST customers creates one (found by phone when known)."""

    phone = TextField(max_length=50, help_text="Any format; without +country, the business's country.")
    first_name = text(Customer, "first_name", required=False)
    last_name = text(Customer, "last_name", required=False)
    preferred_name = text(Customer, "preferred_name", required=False)
    email = EmailTextField(max_length=Customer._meta.get_field("email").max_length, required=False)
    date_of_birth = DateTextField(required=False, validators=[validate_date_of_birth])
    language = TextChoiceField(choices=choices.LANGUAGES, required=False)
    timezone = TextChoiceField(choices=[(name, name) for name in choices.TIME_ZONES], required=False)


class ContactForm(CustomerForm):
    """The contact fields PUT customers/{id} changes: those given (null clears one);
    services.update_contact checks them as it does for the profile page."""

    phone = TextField(max_length=50, required=False)
    status = TextChoiceField(choices=Customer.Status.choices, required=False)

    def changes(self, payload):
        return {name: self.cleaned_data[name] for name in self.fields if name in payload}


class AddressBookForm(AddressForm):
    """An address of the customer's address book (POST and PUT customers/{id}/addresses)."""

    kind = TextChoiceField(choices=Dropoff.Kind.choices, required=False)
    is_default = JsonBooleanField(required=False)

    def clean_kind(self):
        return self.cleaned_data["kind"] or Dropoff.Kind.SHIPPING


class CustomerListForm(forms.Form):
    """The query parameters of GET customers beside the customer list's filters."""

    updated_since = IsoDateTimeField(required=False)
    cursor = TextField(required=False)
    limit = WholeNumberField(min_value=1, max_value=200, required=False)


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
        if len(value) >= MAX_MERGED_AT_ONCE:
            message = f"Merge at most {MAX_MERGED_AT_ONCE - 1} customers into the survivor at once."
            raise ValidationError(message, code="max_length")
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
