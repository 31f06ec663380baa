"""Exports of the customer list and its orders as CSV or XLSX: the rows, the writers and
the one function that keeps spreadsheet formulas out of them. Reads only."""

import csv
import datetime as dt
import io
from types import SimpleNamespace

from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.models import Customer, Order

# A spreadsheet runs a cell starting with one of these as a formula (OWASP ASVS 5.0, 1.2.10).
FORMULA_PREFIXES = "=+-@\t\r\0"
EXPORT_CHUNK = 2000


def neutralize(value):
    """Text a spreadsheet would run as a formula, quoted so it shows as text ("=1+1" ->
    "'=1+1", "==x" -> "'==x"); numbers, dates, booleans and empty cells are left as they are.
    The imports drop the quote again."""
    if isinstance(value, str) and value and value[0] in FORMULA_PREFIXES:
        return "'" + value
    return value


def customers_for(business, params):
    """The customers the list shows for these filters (query parameters), in its order."""
    from customers.filters import CustomerFilter

    # Not queries.customer_list, which loads only the columns the list shows.
    customers = Customer.objects.filter(business=business).live().order_by("-created_at", "-id")
    request = SimpleNamespace(business=business)
    customer_filter = CustomerFilter(params, queryset=customers, request=request)
    # The list ignores a wrong filter (and shows its error); an export must not quietly export more.
    if not customer_filter.is_valid():
        raise ValidationError(customer_filter.errors)
    return customer_filter.qs


def orders_for(business, params):
    """The orders of the customers the list shows for these filters, latest first."""
    customers = customers_for(business, params).order_by()
    return Order.objects.filter(business=business, customer__in=customers).order_by("-placed_at", "-id")


def queryset_for(business, kind, params):
    return customers_for(business, params) if kind == "customers" else orders_for(business, params)


def export_rows(resource, queryset):
    """The header, then one list of values per object, read in chunks (memory stays bounded)."""
    yield resource.get_export_headers()
    for obj in resource.filter_export(queryset).iterator(chunk_size=EXPORT_CHUNK):
        yield resource.export_resource(obj, force_native_type=True)


def csv_value(value):
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


class Echo:
    def write(self, value):
        return value


def csv_lines(rows):
    """UTF-8 CSV with a BOM (so that Excel reads the accents), line by line, for streaming."""
    writer = csv.writer(Echo())
    yield "\ufeff"
    for row in rows:
        yield writer.writerow([csv_value(value) for value in row])


def in_time_zone(name, lines):
    """Streams `lines` with the business's time zone active: a streamed response is read
    after the view and its middleware have returned."""
    with timezone.override(name):
        yield from lines


def write_csv(rows, stream):
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    text.writelines(csv_lines(rows))
    text.flush()
    text.detach()


def write_xlsx(rows, stream):
    """XLSX in write-only mode: rows go to a temporary file as they come, so memory stays bounded."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in rows:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("\ufffd", v) if isinstance(v, str) else v for v in row])
    workbook.save(stream)


def export_filename(kind, file_format):
    return f"{kind}-{timezone.localdate():%Y-%m-%d}.{file_format}"
