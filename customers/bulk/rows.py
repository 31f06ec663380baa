"""One data row of an import: its cells read as typed values with the errors met doing so,
the items of an order row, and what became of each row."""

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from customers import normalize
from customers.bulk.columns import ADDRESS_COLUMNS
from customers.bulk.tables import cell_text
from customers.models import OrderItem, Payment
from customers.normalize import normalize_phone
from customers.signals import OPT_IN_FIELDS

YES = {"true", "yes", "y", "1"}
NO = {"false", "no", "n", "0"}


class Row:
    """One data row: typed values of its cells, and the errors met reading them."""

    def __init__(self, number, cells):
        self.number = number
        self.cells = cells
        self.errors = []

    def error(self, column, message):
        # Messages quote cells, and end up in the job's preview and the rejected rows' file.
        self.errors.append((column, normalize.printable(message)))

    def refuse(self, column, error):
        self.error(column, " ".join(error.messages))

    def text(self, column, max_length, required=False):
        value = cell_text(self.cells.get(column))
        try:
            normalize.validate_text(value)
        except ValidationError as error:
            self.refuse(column, error)
            return ""
        if required and not value:
            self.error(column, "This cell is required.")
        elif len(value) > max_length:
            self.error(column, f"At most {max_length} characters.")
            return ""
        return value

    def phone(self, country):
        try:
            text = cell_text(self.cells.get("phone"))
            normalize.validate_text(text)
            return normalize_phone(text, country)
        except ValidationError as error:
            self.refuse("phone", error)
            return None

    def email(self):
        value = self.text("email", 254)
        if value:
            try:
                validate_email(value)
            except ValidationError:
                self.error("email", f"“{value}” is not an email address.")
                return ""
        return value

    def date_of_birth(self):
        value = self.cells.get("date_of_birth")
        try:
            if isinstance(value, dt.datetime):
                value = value.date()
            elif not isinstance(value, dt.date):
                text = cell_text(value)
                if not text:
                    return None
                value = normalize.parse_date(text)
            normalize.validate_date_of_birth(value)
        except ValidationError as error:
            self.refuse("date_of_birth", error)
            return None
        return value

    def placed_at(self):
        """A time between 1970-01-01 and a day from now; without a time zone it is the
        business's (the current one)."""
        value = self.cells.get("placed_at")
        if value in (None, ""):
            return None
        try:
            if not isinstance(value, dt.datetime):
                value = normalize.parse_datetime(cell_text(value))
            if timezone.is_naive(value):
                value = timezone.make_aware(value)
            normalize.validate_order_time(value)
        except ValidationError as error:
            self.refuse("placed_at", error)
            return None
        return value

    def money(self, column):
        text = cell_text(self.cells.get(column)).replace(",", "")
        if not text:
            return None
        try:
            amount = normalize.parse_decimal(text)
        except ValidationError:
            self.error(column, f"“{text}” is not an amount.")
            return None
        if not amount.is_finite() or amount < 0 or amount >= Decimal(10) ** 10:
            self.error(column, f"{text} is not an amount between 0 and 9,999,999,999.99.")
            return None
        if amount != amount.quantize(Decimal("0.01")):
            self.error(column, f"{text} has more than 2 decimals.")
            return None
        return amount.quantize(Decimal("0.01"))

    def address(self):
        limits = {"street": 200, "postal_code": 20}
        address = {column: self.text(column, limits.get(column, 100)) for column in ADDRESS_COLUMNS}
        address["country"] = address["country"].upper()
        if address["country"] and not re.fullmatch(r"[A-Z]{2}", address["country"]):
            self.error("country", "Use the two-letter country code, e.g. US.")
        if not any(address.values()):
            return None
        if not address["street"]:
            self.error("street", "An address needs a street.")
        return address

    def opt_ins(self):
        """{column: bool} of the opt-in cells filled in: yes/no, true/false, y/n or 1/0."""
        opt_ins = {}
        for column in OPT_IN_FIELDS:
            text = cell_text(self.cells.get(column))
            if text.lower() in YES | NO:
                opt_ins[column] = text.lower() in YES
            elif text:
                self.error(column, f"“{text[:20]}” is not yes or no: write true or false.")
        return opt_ins

    def payment(self):
        """The row's payment (bulk.columns.PAYMENT_COLUMNS) as {transaction_id, method,
        status}, or None when the row has none; the method defaults to other, the status to
        succeeded."""
        transaction_id = self.text("transaction_id", Payment._meta.get_field("transaction_id").max_length)
        method = self.text("payment_method", 20).lower().replace(" ", "_")
        status = self.text("payment_status", 20).lower()
        if not (transaction_id or method or status):
            return None
        if not transaction_id:
            self.error("transaction_id", "A payment needs its transaction id.")
        if method and method not in Payment.Method.values:
            self.error("payment_method", f"“{method}” is not one of: {', '.join(Payment.Method.values)}.")
        if status and status not in Payment.REPORTED_STATUSES:
            statuses = ", ".join(Payment.REPORTED_STATUSES)
            self.error(
                "payment_status",
                f"“{status}” is not one of: {statuses} (refunds are made on the profile or the API).",
            )
        return {
            "transaction_id": transaction_id,
            "method": method or Payment.Method.OTHER,
            "status": status or Payment.Status.SUCCEEDED,
        }

    def record_id(self):
        text = cell_text(self.cells.get("id"))
        if not text:
            return None
        if not text.isdigit():
            self.error("id", f"“{text}” is not an id.")
            return None
        return int(text)


def parse_items(row):
    text = cell_text(row.cells.get("items"))
    if not text:
        return []
    example = 'write them as JSON, e.g. [{"sku": "P1", "name": "Pizza", "quantity": 2, "price": "21.25"}]'
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        row.error("items", f"The items cannot be read: {example}.")
        return []
    items = []
    for position, item in enumerate(data, start=1):
        try:
            items.append(parse_item(item))
        except ValidationError as error:
            row.error("items", f"Item {position}: {' '.join(error.messages)}")
    return items


def parse_item(item):
    """An item of the `items` cell, checked against OrderItem's columns; no quantity means one."""
    texts = {}
    for name in ["sku", "name", "category"]:
        value = item.get(name)
        text = "" if value is None else str(value).strip()
        normalize.validate_text(text)
        limit = OrderItem._meta.get_field(name).max_length
        if len(text) > limit:
            raise ValidationError(f"The {name} has more than {limit} characters.")
        texts[name] = text
    if not texts["name"]:
        raise ValidationError("An item needs a name.")
    price_field = OrderItem._meta.get_field("price")
    if item.get("price") in (None, ""):
        raise ValidationError("An item needs a price such as 21.25.")
    price = normalize.parse_decimal(item["price"])
    if price < 0:
        raise ValidationError("An item's price cannot be negative.")
    normalize.validate_digits(
        price, max_digits=price_field.max_digits, decimal_places=price_field.decimal_places
    )
    quantity = item.get("quantity")
    quantity = 1 if quantity in (None, "") else normalize.parse_whole_number(quantity)
    if not 1 <= quantity <= OrderItem.MAX_QUANTITY:
        raise ValidationError(f"Enter a quantity between 1 and {OrderItem.MAX_QUANTITY:,}.")
    price = price.quantize(Decimal(10) ** -price_field.decimal_places)
    return {**texts, "quantity": quantity, "price": price}


@dataclass
class Outcome:
    number: int
    status: str  # new, updated, unchanged or error
    key: str = ""  # the phone or external id
    errors: list = field(default_factory=list)  # [(column, message)]
    object_id: int | None = None

    NEW, UPDATED, UNCHANGED, ERROR = "new", "updated", "unchanged", "error"

    @property
    def message(self):
        """The errors in one sentence: "phone: not a phone number; email: not an email address."."""
        parts = [f"{column}: {message}" if column else message for column, message in self.errors]
        text = "; ".join(part.rstrip(".") for part in parts)
        return text + "." if parts and parts[-1].endswith(".") else text


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: int = 0
    rows: int = 0  # rows read, blank ones included

    def add(self, outcome):
        attribute = {"new": "created", "updated": "updated", "unchanged": "unchanged", "error": "errors"}
        name = attribute[outcome.status]
        setattr(self, name, getattr(self, name) + 1)

    def __str__(self):
        return (
            f"created={self.created} updated={self.updated} unchanged={self.unchanged} errors={self.errors}"
        )
