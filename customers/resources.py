"""django-import-export field mapping of customers and orders.

The columns are those of the app's exports (customers.bulk.exports), in the same order. Imports
do not go row by row through the resource: `import_data` hands the dataset to the import
service (passed in as `import_rows` by the admin, since the services sit above this
module and use its resources for the exports), whose set-based engine (customers.bulk)
resolves phones, external ids and ids within the resource's business only, so that nothing
of another business can be referred to.
"""

import io
import json

import tablib
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Prefetch
from import_export import resources
from import_export.fields import Field
from import_export.formats import base_formats
from import_export.results import Error, Result, RowResult

from customers.bulk import exports, tables
from customers.bulk.rows import Outcome
from customers.models import Customer, Dropoff, Order, Payment
from customers.normalize import neutralize

# Outcome's statuses
IMPORT_TYPES = {
    "new": RowResult.IMPORT_TYPE_NEW,
    "updated": RowResult.IMPORT_TYPE_UPDATE,
    "unchanged": RowResult.IMPORT_TYPE_SKIP,
    "error": RowResult.IMPORT_TYPE_INVALID,
}


def address_part(name, dropoffs):
    """Dehydrates one part of an address: the customer's default shipping address, or the order's."""

    def dehydrate(obj):
        dropoff = dropoffs(obj)
        return getattr(dropoff, name) if dropoff else ""

    return dehydrate


def default_dropoff(customer):
    # Prefetched: the shipping dropoffs, default first.
    return next(iter(customer.dropoffs.all()), None)


class BusinessResource(resources.ModelResource):
    kind = None

    def __init__(self, business=None, actor=None, import_rows=None, **kwargs):
        super().__init__(**kwargs)
        self.business = business
        self.actor = actor
        self.import_rows = import_rows

    def get_queryset(self):
        return super().get_queryset().filter(business=self.business)

    def export_field(self, field, instance, **kwargs):
        return neutralize(super().export_field(field, instance, **kwargs))

    def export(self, queryset=None, **kwargs):
        queryset = self.get_queryset() if queryset is None else queryset
        if queryset.count() > settings.EXPORT_SYNC_MAX_ROWS:
            raise ValueError(
                f"More than {settings.EXPORT_SYNC_MAX_ROWS:,} rows: export them from the Customers page, "
                "where big exports run in the background."
            )
        return super().export(queryset=queryset, **kwargs)

    def import_data(self, dataset, dry_run=False, raise_errors=False, **kwargs):
        """Import through the import service, reporting each row as django-import-export does."""
        result = Result()
        result.diff_headers = list(dataset.headers)
        result.total_rows = len(dataset)
        if self.business is None:
            result.append_base_error(Error(ValueError("Choose the business to import into first.")))
            return result
        if len(dataset) > settings.IMPORT_SYNC_MAX_ROWS:
            message = (
                f"This file has more than {settings.IMPORT_SYNC_MAX_ROWS:,} rows: import it from "
                "Customers › Import, where big files are imported in the background."
            )
            result.append_base_error(Error(ValueError(message)))
            return result

        def open_table():
            rows = ((number, list(values)) for number, values in enumerate(dataset, start=2))
            return NullContext(tables.Table(list(dataset.headers), rows))

        try:
            self.import_rows(
                business=self.business,
                actor=self.actor,
                kind=self.kind,
                open_table=open_table,
                dry_run=dry_run,
                collector=ResultCollector(result),
            )
        except tables.ImportFileError as error:
            result.append_base_error(Error(error))
        return result


class NullContext:
    def __init__(self, table):
        self.table = table

    def __enter__(self):
        return self.table

    def __exit__(self, *exc_info):
        return False


class ResultCollector:
    """Turns the import's outcomes into a django-import-export Result."""

    def __init__(self, result):
        self.result = result

    def start(self, step, headers):
        self.result.rows, self.result.invalid_rows = [], []
        self.result.totals = {key: 0 for key in self.result.totals}

    def row(self, outcome, values):
        row_result = RowResult()
        row_result.import_type = IMPORT_TYPES[outcome.status]
        row_result.diff = [tables.cell_text(value) for value in values]
        row_result.object_id = outcome.object_id
        self.result.increment_row_result_total(row_result)
        if outcome.status == Outcome.ERROR:
            errors = {}
            for column, message in outcome.errors:
                errors.setdefault(column or NON_FIELD_ERRORS, []).append(message)
            row = dict(zip(self.result.diff_headers, row_result.diff, strict=False))
            self.result.append_invalid_row(outcome.number, row, ValidationError(errors))
        else:
            self.result.append_row_result(row_result)

    def progress(self, step, rows):
        pass


class CustomerResource(BusinessResource):
    kind = "customers"
    tags = Field(
        column_name="tags",
        dehydrate_method=lambda customer: ";".join(sorted(tag.name for tag in customer.tags.all())),
    )
    street = Field(column_name="street", dehydrate_method=address_part("street", default_dropoff))
    city = Field(column_name="city", dehydrate_method=address_part("city", default_dropoff))
    state = Field(column_name="state", dehydrate_method=address_part("state", default_dropoff))
    postal_code = Field(
        column_name="postal_code", dehydrate_method=address_part("postal_code", default_dropoff)
    )
    country = Field(column_name="country", dehydrate_method=address_part("country", default_dropoff))

    class Meta:
        model = Customer
        fields = exports.CUSTOMER_COLUMNS
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        shipping = Dropoff.objects.filter(kind=Dropoff.Kind.SHIPPING).order_by(
            "-is_default", "created_at", "id"
        )
        return queryset.prefetch_related("tags", Prefetch("dropoffs", queryset=shipping))


def order_payment_cells(order):
    return exports.payment_cells(list(order.payments.all()))


def order_items(order):
    items = [
        {
            "sku": item.sku,
            "name": item.name,
            "category": item.category,
            "quantity": item.quantity,
            "price": str(item.price),
        }
        for item in order.items.all()
    ]
    return json.dumps(items, ensure_ascii=False) if items else ""


class OrderResource(BusinessResource):
    kind = "orders"
    phone = Field(attribute="customer__phone", column_name="phone")
    first_name = Field(attribute="customer__first_name", column_name="first_name")
    last_name = Field(attribute="customer__last_name", column_name="last_name")
    email = Field(attribute="customer__email", column_name="email")
    street = Field(column_name="street", dehydrate_method=address_part("street", lambda order: order.dropoff))
    city = Field(column_name="city", dehydrate_method=address_part("city", lambda order: order.dropoff))
    state = Field(column_name="state", dehydrate_method=address_part("state", lambda order: order.dropoff))
    postal_code = Field(
        column_name="postal_code", dehydrate_method=address_part("postal_code", lambda order: order.dropoff)
    )
    country = Field(
        column_name="country", dehydrate_method=address_part("country", lambda order: order.dropoff)
    )
    items = Field(column_name="items", dehydrate_method=order_items)
    payments = Field(column_name="payments", dehydrate_method=lambda order: order_payment_cells(order)[0])
    paid = Field(column_name="paid", dehydrate_method=lambda order: order_payment_cells(order)[1])
    refunded = Field(column_name="refunded", dehydrate_method=lambda order: order_payment_cells(order)[2])

    class Meta:
        model = Order
        fields = exports.ORDER_COLUMNS
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        payments = Prefetch("payments", queryset=Payment.objects.order_by("id"))
        return queryset.select_related("customer", "dropoff").prefetch_related("items", payments)


RESOURCES = {"customers": CustomerResource, "orders": OrderResource}


def dataset_from(data):
    """A tablib Dataset of a CSV (encoding detected) or XLSX file, for the admin's import."""
    with tables.open_table(io.BytesIO(data)) as table:
        width = len(table.headers)
        dataset = tablib.Dataset(headers=[str(header or "") for header in table.headers])
        for _, values in table.rows:
            dataset.append((list(values) + [None] * width)[:width])
    # The dataset keeps the cells only: a row the reading found wrong refuses the file here.
    if table.row_errors:
        number, messages = next(iter(table.row_errors.items()))
        more = len(table.row_errors) - 1
        raise tables.ImportFileError(
            f"Row {number}: {' '.join(messages)}" + (f" (and {more} more rows)" if more else "")
        )
    return dataset


class CSVImport(base_formats.CSV):
    """CSV read as bytes and decoded in the encoding detected (UTF-8 with or without BOM, Windows-1252)."""

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        return dataset_from(in_stream)


class XLSXImport(base_formats.XLSX):
    """XLSX checked for its unpacked size before openpyxl opens it."""

    def create_dataset(self, in_stream):
        return dataset_from(in_stream)
