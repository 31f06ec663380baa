"""The set-based import engine behind Customers › Import, the admin's import and
`manage.py import_file`. Called by the import services, never by views.

A file is read as a table (CSV in any of the usual encodings, or XLSX) and handled in
chunks: each chunk's rows are parsed and validated in Python, everything they refer to is
looked up with one query per kind of thing, and the rows are written with a few
statements (an INSERT ... ON CONFLICT upsert of customers, bulk inserts of orders, items,
addresses, tag links and timeline entries). The results are those of the row-by-row
services: `get_or_create_customer`, `record_order`, `tag_customer`, `dropoff_for`,
`update_search_text`, `change_order_status` and `change_order_address`.

Row numbers are those a spreadsheet shows: the header is row 1, the first data row is row 2.
"""

import codecs
import csv
import datetime as dt
import io
import itertools
import json
import re
import zipfile
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from xml.parsers import expat

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from customers import demo, normalize, queries
from customers.models import (
    ADDRESS_LIMIT_EXCEEDED,
    Activity,
    Customer,
    CustomerAccount,
    Dropoff,
    Order,
    OrderItem,
    Tag,
    searchable,
)
from customers.normalize import address_key, normalize_phone, restore_formulas
from customers.signals import orders_imported

CHUNK_SIZE = 2000
# The longest cell a file may have, CSV or XLSX: the csv module's default field limit.
MAX_CELL_CHARS = 131_072
# Rows per INSERT statement: well under SQLite's limit of bound parameters.
INSERT_BATCH = 500
ENCODINGS = {
    "auto": "Detect (UTF-8 with or without BOM, else Windows-1252)",
    "utf-8": "UTF-8",
    "cp1252": "Windows-1252 (Excel on Windows)",
    "latin-1": "Latin-1",
}

CUSTOMER_COLUMNS = [
    "phone",
    "first_name",
    "last_name",
    "email",
    "date_of_birth",
    "language",
    "tags",
    "street",
    "city",
    "state",
    "postal_code",
    "country",
]
ORDER_COLUMNS = [
    "external_id",
    "phone",
    "amount",
    "currency",
    "placed_at",
    "status",
    "source",
    "street",
    "city",
    "postal_code",
    "country",
]
# Accepted as well, and written by the exports so that an export imports back unchanged.
OPTIONAL_COLUMNS = {
    "customers": ["id"],
    "orders": ["id", "first_name", "last_name", "email", "state", "items"],
}
TEMPLATE_COLUMNS = {"customers": CUSTOMER_COLUMNS, "orders": ORDER_COLUMNS}
REQUIRED_COLUMNS = {"customers": ["phone"], "orders": ["external_id", "phone", "amount"]}
ADDRESS_COLUMNS = ["street", "city", "state", "postal_code", "country"]
CONTACT_COLUMNS = ["first_name", "last_name", "email", "date_of_birth", "language"]


class ImportFileError(Exception):
    """The file as a whole cannot be read or imported; the message is for the user."""


def known_columns(kind):
    return TEMPLATE_COLUMNS[kind] + OPTIONAL_COLUMNS[kind]


def column_key(name):
    """Header names match whatever their case, spaces, dashes and underscores."""
    return re.sub(r"[\s_\-]+", "", str(name or "").strip().lower())


def map_headers(headers, kind):
    """{column: position} of the known columns, and the names of the ignored ones."""
    wanted = {column_key(column): column for column in known_columns(kind)}
    positions, ignored = {}, []
    for position, header in enumerate(headers):
        column = wanted.get(column_key(header))
        if column is None:
            if str(header or "").strip():
                ignored.append(str(header).strip())
        elif column in positions:
            raise ImportFileError(f"The column “{column}” appears twice in the first row.")
        else:
            positions[column] = position
    missing = [column for column in REQUIRED_COLUMNS[kind] if column not in positions]
    if missing:
        raise ImportFileError(
            f"Missing column(s): {', '.join(missing)}. The first row must name the columns: "
            f"{', '.join(TEMPLATE_COLUMNS[kind])}."
        )
    return positions, ignored


# Reading files ----------------------------------------------------------------------------


@dataclass
class Table:
    headers: list
    rows: object  # iterator of (row number, [cell values])
    encoding: str = ""
    # What reading found wrong with single rows, {row number: [message]}: filled as the rows
    # are read, taken by `run` into the rows' errors.
    row_errors: dict = field(default_factory=dict)


# A file with UTF-8 lines and lines that are not: each line is read in UTF-8 or, failing
# that, in Windows-1252, and the rows of the latter are refused (read as a whole in
# Windows-1252 the UTF-8 accents would be stored as "JosÃ©").
MIXED_ENCODINGS = "utf-8 and cp1252"
NOT_UTF8_ROW = (
    "This row is not UTF-8 text, unlike other rows of the file: its accents would be read wrong. "
    "Save the file as UTF-8 (or choose its encoding on the form)."
)
SWALLOWED_ROWS = (
    "A cell of this row runs over several lines and holds what looks like a whole row: a quote (\") "
    "is probably not closed. Check the quotes of this row."
)


def detect_encoding(file):
    """UTF-8 (with or without BOM) when the whole file decodes as UTF-8; MIXED_ENCODINGS when
    some lines with accents are UTF-8 and others are not; else Windows-1252, else Latin-1
    (which decodes anything)."""
    file.seek(0)
    has_bom = file.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8
    if not has_bom:
        file.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while block := file.read(1 << 20):
            decoder.decode(block)
        decoder.decode(b"", final=True)
        return "utf-8-sig" if has_bom else "utf-8"
    except UnicodeDecodeError:
        pass
    file.seek(0)
    utf8_lines, cp1252 = has_bom, True
    for line in file:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_lines = True
        except UnicodeDecodeError:
            try:
                line.decode("cp1252")
            except UnicodeDecodeError:
                cp1252 = False
    file.seek(0)
    if utf8_lines:
        return MIXED_ENCODINGS
    return "cp1252" if cp1252 else "latin-1"


def lines_of_mixed_file(file, other_lines):
    """The file's lines as text, each in UTF-8 or else in Windows-1252; the numbers of the
    latter go into `other_lines`."""
    file.seek(0)
    for number, line in enumerate(file, start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            other_lines.add(number)
            text = line.decode("cp1252", errors="replace")
        yield text.lstrip("\ufeff") if number == 1 else text


def resolve_encoding(file, encoding):
    if encoding in ("", "auto"):
        return detect_encoding(file)
    # A chosen UTF-8 still drops a BOM.
    return "utf-8-sig" if encoding == "utf-8" else encoding


def file_size(file):
    file.seek(0, io.SEEK_END)
    size = file.tell()
    file.seek(0)
    return size


def check_size(file):
    limit = settings.IMPORT_MAX_FILE_BYTES
    if file_size(file) > limit:
        raise ImportFileError(f"The file is larger than the limit of {limit // (1024 * 1024)} MB.")


@contextmanager
def open_table(file, *, encoding="auto"):
    """The table in a binary file object (CSV or XLSX, told apart by their first bytes)."""
    check_size(file)
    head = file.read(8)
    file.seek(0)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("Old Excel files (.xls) cannot be imported: save the file as .xlsx or CSV.")
    if head.startswith(b"PK\x03\x04"):
        with xlsx_table(file) as table:
            yield table
    else:
        with csv_table(file, resolve_encoding(file, encoding)) as table:
            yield table


@contextmanager
def csv_table(file, encoding):
    file.seek(0)
    readable = "utf-8" if encoding == MIXED_ENCODINGS else encoding
    first_line = file.read(64 * 1024).decode(readable, errors="replace").lstrip("\ufeff").split("\n", 1)[0]
    file.seek(0)
    # Spreadsheets in many countries save CSV with semicolons.
    delimiter = max([",", ";", "\t"], key=first_line.count)
    other_lines = set()
    if encoding == MIXED_ENCODINGS:
        text = None
        lines = lines_of_mixed_file(file, other_lines)
    else:
        text = lines = io.TextIOWrapper(file, encoding=encoding, newline="")
    # Strict: a quote opened and never closed is an error, not a cell swallowing the rest.
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    try:
        try:
            headers = next(reader, None)
        except (UnicodeDecodeError, csv.Error) as error:
            raise ImportFileError(f"The file cannot be read as CSV in {encoding}: {error}") from None
        if not headers:
            raise ImportFileError("The file is empty.")
        table = Table(headers, None, encoding)
        table.rows = limited(numbered_csv_rows(reader, table, delimiter, other_lines))
        yield table
    finally:
        # The caller's file stays open: the wrapper would close it when collected.
        if text is not None:
            text.detach()


def numbered_csv_rows(reader, table, delimiter, other_lines):
    """The rows with their numbers; the errors found reading them go into `table.row_errors`."""
    # A line of a cell holding as many delimiters as a whole row is most likely rows
    # swallowed by a quote left open.
    row_delimiters = max(len(table.headers) - 1, 1)
    number = 1
    try:
        while True:
            first_line = reader.line_num + 1
            values = next(reader, None)
            if values is None:
                return
            number += 1
            errors = []
            if any(line in other_lines for line in range(first_line, reader.line_num + 1)):
                errors.append(NOT_UTF8_ROW)
            if reader.line_num > first_line and any(
                line.count(delimiter) >= row_delimiters
                for value in values
                for line in value.splitlines()[1:]
            ):
                errors.append(SWALLOWED_ROWS)
            if errors:
                table.row_errors[number] = errors
            yield number, values
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise ImportFileError(
                f"Row {number + 1} has a cell of more than {MAX_CELL_CHARS:,} characters, more than any "
                "column can hold (or a quote opened there is never closed)."
            ) from None
        if "end of data" in str(error):
            raise ImportFileError(
                f"Row {number + 1} opens a quote (\") that is never closed, so it would swallow every "
                "row after it. Close the quote or remove it."
            ) from None
        raise ImportFileError(f"Row {number + 1} cannot be read as CSV: {error}. Check its quotes.") from None
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"The file cannot be read as CSV in {table.encoding} at row {number + 1}: {error}. "
            "Choose its encoding on the form."
        ) from None


@contextmanager
def xlsx_table(file):
    import openpyxl

    try:
        archive = zipfile.ZipFile(file)
        unpacked = sum(info.file_size for info in archive.infolist())
        # zipfile never inflates an entry past its declared size, so the declared sizes bound
        # what openpyxl can unpack.
        if unpacked > settings.IMPORT_MAX_XLSX_UNPACKED_BYTES:
            raise ImportFileError("The XLSX file unpacks to more data than allowed; it may be a zip bomb.")
        check_xlsx_cells(archive)
    except (zipfile.BadZipFile, expat.ExpatError, EOFError, OSError):
        raise ImportFileError("The file is not a readable XLSX file.") from None
    file.seek(0)
    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception as error:
        raise ImportFileError(f"The file is not a readable XLSX file ({type(error).__name__}).") from None
    try:
        rows = workbook.active.iter_rows(values_only=True)
        headers = next(rows, None)
        if not headers:
            raise ImportFileError("The file is empty.")
        yield Table(list(headers), limited(enumerate(rows, start=2)))
    finally:
        workbook.close()


def check_xlsx_cells(archive):
    """Refuse a workbook holding a text longer than a cell may be (MAX_CELL_CHARS), reading
    its XML parts as streams: openpyxl would first hold each whole text in memory (a 300 KB
    file can hold a 300 MB shared string, or a cell padded with 300 MB of spaces). Every part
    is read, since the content types may name any part the shared strings; the text between
    two cells counts as well, since the XML parser keeps it too."""
    for info in archive.infolist():
        if info.filename.endswith((".xml", ".rels")):
            with archive.open(info) as stream:
                scan_xml_cells(stream)


# Where a cell's text starts: a shared string, a sheet's cell.
CELL_ELEMENTS = {"si", "c"}


def scan_xml_cells(stream):
    parser = expat.ParserCreate()
    length = 0

    def start(name, attributes):
        nonlocal length
        if name.rpartition(":")[2] in CELL_ELEMENTS:
            length = 0

    def text(data):
        nonlocal length
        length += len(data)
        if length > MAX_CELL_CHARS:
            raise ImportFileError(
                f"The file has a cell of more than {MAX_CELL_CHARS:,} characters (spaces included), "
                "more than any column can hold."
            )

    def refuse_doctype(*args):
        # XLSX parts never declare one; entities defined there could expand without bound.
        raise ImportFileError("The file is not a readable XLSX file.")

    parser.StartElementHandler = start
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.ParseFile(stream)


def limited(rows):
    last = settings.IMPORT_MAX_ROWS + 1
    for number, values in rows:
        if number > last:
            raise ImportFileError(f"The file has more than {settings.IMPORT_MAX_ROWS:,} rows.")
        yield number, values


def count_rows(file, *, encoding="auto", stop_after=None):
    """Data rows in the file (stops counting past `stop_after`)."""
    with open_table(file, encoding=encoding) as table:
        rows = table.rows if stop_after is None else itertools.islice(table.rows, stop_after + 1)
        count = sum(1 for _ in rows)
    file.seek(0)
    return count


def cell_text(value):
    """A cell as text. Undoes the exports' formula neutralization (a quote before = + - @)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return restore_formulas(value.strip())
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# Row parsing ----------------------------------------------------------------------------------


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

    def record_id(self):
        text = cell_text(self.cells.get("id"))
        if not text:
            return None
        if not text.isdigit():
            self.error("id", f"“{text}” is not an id.")
            return None
        return int(text)


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


def run(*, business, kind, table, change_order, actor=None, dry_run, on_row=None, on_chunk=None):
    """Import the table's rows chunk by chunk; each chunk's writes commit together. A dry
    run writes nothing. `on_row(outcome, values)` sees every non-blank row, `on_chunk(counts)`
    each chunk's end. `change_order(order=, status=, address=, actor=)` changes a recorded
    order's status and address as the services do: it is passed in because the services sit
    above this engine and call it."""
    positions, _ = map_headers(table.headers, kind)
    importer = (CustomerChunk if kind == "customers" else OrderChunk)(business, actor, dry_run, change_order)
    counts = Counts()
    while chunk := list(itertools.islice(table.rows, CHUNK_SIZE)):
        counts.rows += len(chunk)
        rows = []
        for number, values in chunk:
            if any(value not in (None, "") for value in values):
                cells = {column: values[p] if p < len(values) else None for column, p in positions.items()}
                row = Row(number, cells)
                for message in table.row_errors.pop(number, ()):
                    row.error("", message)
                rows.append((row, values))
        outcomes = importer.process([row for row, _ in rows])
        for (_, values), outcome in zip(rows, outcomes, strict=True):
            counts.add(outcome)
            if on_row:
                on_row(outcome, values)
        if on_chunk:
            on_chunk(counts)
    return counts


# Customers -------------------------------------------------------------------------------------


@dataclass
class Target:
    """A customer a chunk writes to: what it was, and what the chunk's rows make of it."""

    phone: str
    customer_id: int | None = None
    old: dict = field(default_factory=dict)
    contact: dict = field(default_factory=dict)
    changes: dict = field(default_factory=dict)  # field -> [old, new], for the timeline
    tags: set = field(default_factory=set)
    new_tags: list = field(default_factory=list)
    dropoff_ids: dict = field(default_factory=dict)  # address key -> id of a shipping dropoff
    dropoff_count: int = 0
    has_default: bool = False
    new_dropoffs: list = field(default_factory=list)
    blacklisted: bool = False
    rows: int = 0  # rows of the chunk folded into it so far
    created: bool = False  # inserted by this chunk

    @property
    def is_new(self):
        return self.customer_id is None


class ChunkBase:
    def __init__(self, business, actor, dry_run, change_order):
        self.business = business
        self.actor = actor
        self.dry_run = dry_run
        self.change_order = change_order
        self.now = timezone.now()

    def targets_for(self, phones, with_tags=False):
        """Targets of the live customers with these phones (a merged customer's phone
        leads to the customer it was merged into), keyed by the phone asked for."""
        fields = ["id", "phone", "preferred_name", "is_blacklisted", *CONTACT_COLUMNS]
        customers = Customer.objects.live().filter(business=self.business, phone__in=phones)
        found = {row["phone"]: row for row in customers.values(*fields)}
        merged_phones = (
            Customer.objects.filter(business=self.business, phone__in=set(phones) - set(found))
            .filter(merged_into__isnull=False, anonymized_at__isnull=True)
            .values_list("phone", flat=True)
        )
        for phone in set(merged_phones):
            survivor = queries.find_customer_by_phone(self.business, phone)
            if survivor is not None:
                found[phone] = Customer.objects.filter(pk=survivor.pk).values(*fields).get()
        targets = {}
        by_id = {}
        for phone, row in found.items():
            target = by_id.get(row["id"])
            if target is None:
                target = by_id[row["id"]] = Target(
                    phone=row["phone"],
                    customer_id=row["id"],
                    old={name: row[name] for name in CONTACT_COLUMNS},
                    blacklisted=row["is_blacklisted"],
                )
                target.contact = dict(target.old, preferred_name=row["preferred_name"])
            targets[phone] = target
        if by_id:
            dropoffs = Dropoff.objects.filter(customer_id__in=by_id).values_list(
                "id", "customer_id", "kind", "address_key", "is_default"
            )
            for dropoff_id, customer_id, kind, key, is_default in dropoffs:
                target = by_id[customer_id]
                target.dropoff_count += 1
                if kind == Dropoff.Kind.SHIPPING:
                    target.dropoff_ids[key] = dropoff_id
                    target.has_default |= is_default
            if with_tags:
                links = Customer.tags.through.objects.filter(customer_id__in=by_id)
                for customer_id, name in links.values_list("customer_id", "tag__name"):
                    by_id[customer_id].tags.add(name)
        return targets

    def plan_dropoff(self, row, target, address):
        """The dropoff this row needs (None when the target has that address already), as
        `dropoff_for` would make it; an 11th address is an error of the row."""
        key = address_key(address)
        if key in target.dropoff_ids:
            return None
        if target.dropoff_count >= Dropoff.MAX_PER_CUSTOMER:
            row.error("street", ADDRESS_LIMIT_EXCEEDED)
            return None
        return {
            **{name: value for name, value in address.items() if value},
            "address_key": key,
            "country": address.get("country", ""),
        }

    def add_dropoff(self, target, dropoff):
        dropoff["is_default"] = not target.has_default
        target.has_default = True
        target.dropoff_ids[dropoff["address_key"]] = None
        target.dropoff_count += 1
        target.new_dropoffs.append(dropoff)

    def save_targets(self, targets, activities, log_changes=True):
        """Upsert the new and changed customers (their ids land on the targets) and their timeline."""
        changed = [target for target in targets if (target.is_new and target.rows) or target.changes]
        emails = defaultdict(list)
        accounts = CustomerAccount.objects.filter(
            customer_id__in=[t.customer_id for t in changed if t.customer_id]
        )
        for customer_id, email in accounts.exclude(email="").values_list("customer_id", "email"):
            emails[customer_id].append(email)
        rows = []
        for target in changed:
            contact = (
                target.contact if target.is_new else {name: new for name, (_, new) in target.changes.items()}
            )
            merged = target.contact
            search_text = searchable(
                merged.get("first_name"),
                merged.get("last_name"),
                merged.get("preferred_name"),
                merged.get("email"),
                *emails.get(target.customer_id, []),
            )
            rows.append((target, contact, search_text))
        ids = upsert_customers(
            self.business, [(t.phone, contact, text) for t, contact, text in rows], self.now
        )
        for target, _, _ in rows:
            target.created = target.is_new
            target.customer_id = ids[target.phone]
            if target.created:
                activities.append(self.activity(target, Activity.Kind.CREATED, phone=target.phone))
            elif log_changes:
                changes = {name: [plain(old), plain(new)] for name, (old, new) in target.changes.items()}
                activities.append(self.activity(target, Activity.Kind.CONTACT_UPDATED, changes=changes))

    def save_dropoffs(self, targets):
        """Insert the targets' new dropoffs; their ids land in the targets' `dropoff_ids`."""
        owners, dropoffs = [], []
        for target in targets:
            for values in target.new_dropoffs:
                owners.append(target)
                dropoffs.append(
                    {
                        "business_id": self.business.pk,
                        "customer_id": target.customer_id,
                        "created_at": self.now,
                        **values,
                    }
                )
        ids = bulk_insert(Dropoff, dropoffs, returning_ids=True)
        for target, dropoff, dropoff_id in zip(owners, dropoffs, ids, strict=True):
            target.dropoff_ids[dropoff["address_key"]] = dropoff_id

    def activity(self, target, kind, **data):
        return {
            "business_id": self.business.pk,
            "customer_id": target.customer_id,
            "kind": kind,
            "actor_id": self.actor.pk if self.actor else None,
            "data": data,
            "created_at": self.now,
        }


def plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


class CustomerChunk(ChunkBase):
    def process(self, rows):
        country = self.business.default_country
        parsed = []
        for row in rows:
            record_id = row.record_id()
            phone = row.phone(country)
            contact = {
                "first_name": row.text("first_name", 100),
                "last_name": row.text("last_name", 100),
                "email": row.email(),
                "date_of_birth": row.date_of_birth(),
                "language": row.text("language", 10),
            }
            tags = [" ".join(name.split()) for name in cell_text(row.cells.get("tags")).split(";")]
            tags = list(dict.fromkeys(name for name in tags if name))
            for name in tags:
                if len(name) > 50:
                    row.error("tags", f"The tag “{name[:20]}…” is longer than 50 characters.")
            parsed.append((row, record_id, phone, contact, tags, row.address()))

        targets = self.targets_for([phone for row, _, phone, *_ in parsed if not row.errors], with_tags=True)
        ids = {record_id for row, record_id, *_ in parsed if record_id and not row.errors}
        known_ids = set(
            Customer.objects.live().filter(business=self.business, pk__in=ids).values_list("pk", flat=True)
        )
        outcomes = []
        for row, record_id, phone, contact, tags, address in parsed:
            target = None if row.errors else targets.setdefault(phone, Target(phone=phone))
            if target and record_id and (record_id not in known_ids or record_id != target.customer_id):
                row.error("id", f"No customer with id {record_id} and this phone in this business.")
            dropoff = self.plan_dropoff(row, target, address) if target and address else None
            if row.errors:
                key = phone or normalize.printable(cell_text(row.cells.get("phone")))
                outcomes.append(Outcome(row.number, Outcome.ERROR, key=key, errors=row.errors))
                continue
            outcomes.append(Outcome(row.number, self.apply(target, contact, tags, dropoff), key=phone))
        if not self.dry_run:
            self.write(list({id(target): target for target in targets.values()}.values()))
        return outcomes

    def apply(self, target, contact, tags, dropoff):
        """Fold one row into its target, as saving the rows one after another would."""
        first_row = target.is_new and not target.rows
        target.rows += 1
        changed = False
        for name, value in contact.items():
            if value not in (None, "") and value != target.contact.get(name):
                if not target.is_new:
                    target.changes[name] = [target.old.get(name), value]
                target.contact[name] = value
                changed = True
        # One tag per name in any case: "vip" is the customer's "VIP".
        known = {name.casefold() for name in target.tags}
        new_tags = []
        for name in tags:
            if name.casefold() not in known:
                known.add(name.casefold())
                new_tags.append(name)
        target.tags.update(new_tags)
        target.new_tags += new_tags
        if dropoff:
            self.add_dropoff(target, dropoff)
        if first_row:
            return Outcome.NEW
        return Outcome.UPDATED if changed or new_tags or dropoff else Outcome.UNCHANGED

    @transaction.atomic
    def write(self, targets):
        activities = []
        self.save_targets(targets, activities)
        self.save_tags(targets, activities)
        self.save_dropoffs(targets)
        bulk_insert(Activity, activities)

    def save_tags(self, targets, activities):
        names = {name for target in targets for name in target.new_tags}
        if not names:
            return
        # A name the business has in another case ("vip" for "VIP") is not inserted: its tag is.
        Tag.objects.bulk_create(
            [Tag(business=self.business, name=name) for name in names], ignore_conflicts=True
        )
        in_any_case = Q()
        for name in names:
            in_any_case |= Q(name__iexact=name)
        found = dict(Tag.objects.filter(in_any_case, business=self.business).values_list("name", "pk"))
        by_folded = {name.casefold(): pk for name, pk in found.items()}
        tag_ids = {}
        for name in names:
            tag_ids[name] = found.get(name) or by_folded.get(name.casefold())
            if tag_ids[name] is None:  # the same name for the database, not for casefold()
                tag_ids[name] = Tag.objects.get(business=self.business, name__iexact=name).pk
        links = []
        for target in targets:
            for name in target.new_tags:
                links.append(Customer.tags.through(customer_id=target.customer_id, tag_id=tag_ids[name]))
                activities.append(self.activity(target, Activity.Kind.TAGGED, tag=name))
        Customer.tags.through.objects.bulk_create(links, batch_size=INSERT_BATCH, ignore_conflicts=True)


# Orders ----------------------------------------------------------------------------------------

# Recorded facts an import may not rewrite; status and address it may change, as the services do.
FIXED_ORDER_FIELDS = ["amount", "currency", "placed_at", "source"]


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
class OrderRow:
    row: Row
    record_id: int | None
    external_id: str
    phone: str | None
    contact: dict
    values: dict  # amount, currency, placed_at, status, source as given (None or "" when blank)
    address: dict | None
    items: list


class OrderChunk(ChunkBase):
    def parse(self, row):
        currency = row.text("currency", 3).upper()
        if currency and not re.fullmatch(r"[A-Z]{3}", currency):
            row.error("currency", f"“{currency}” is not a three-letter currency code.")
        status = row.text("status", 20).lower()
        if status and status not in Order.Status.values:
            row.error("status", f"“{status}” is not one of: {', '.join(Order.Status.values)}.")
        return OrderRow(
            row=row,
            record_id=row.record_id(),
            external_id=row.text("external_id", 100, required=True),
            phone=row.phone(self.business.default_country),
            contact={
                "first_name": row.text("first_name", 100),
                "last_name": row.text("last_name", 100),
                "email": row.email(),
            },
            values={
                "amount": row.money("amount"),
                "currency": currency,
                "placed_at": row.placed_at(),
                "status": status,
                "source": row.text("source", 50),
            },
            address=row.address(),
            items=parse_items(row),
        )

    def process(self, rows):
        parsed = [self.parse(row) for row in rows]
        valid = [order for order in parsed if not order.row.errors]
        recorded = {
            order["external_id"]: order
            for order in Order.objects.filter(
                business=self.business, external_id__in=[order.external_id for order in valid]
            ).values("id", "external_id", "customer_id", "dropoff_id", *FIXED_ORDER_FIELDS, "status")
        }
        targets = self.targets_for([order.phone for order in valid])
        first_row_of = {}
        new_orders, changes, outcomes = [], [], []
        for order in parsed:
            row = order.row
            if not row.errors:
                if order.external_id in first_row_of:
                    row.error(
                        "external_id",
                        f"{order.external_id} is also on row {first_row_of[order.external_id]}.",
                    )
                first_row_of.setdefault(order.external_id, row.number)
            if row.errors:
                outcomes.append(Outcome(row.number, Outcome.ERROR, key=order.external_id, errors=row.errors))
                continue
            existing = recorded.get(order.external_id)
            if order.record_id and (existing is None or existing["id"] != order.record_id):
                row.error("id", f"No order with id {order.record_id} and this external id in this business.")
            target = targets.setdefault(order.phone, Target(phone=order.phone))
            if existing is None:
                status = self.plan_new(order, target, new_orders)
            else:
                status = self.plan_change(order, target, existing, changes)
            if row.errors:
                outcomes.append(Outcome(row.number, Outcome.ERROR, key=order.external_id, errors=row.errors))
            else:
                outcomes.append(Outcome(row.number, status, key=order.external_id))
        if not self.dry_run:
            targets = list({id(target): target for target in targets.values()}.values())
            self.write(targets, new_orders, changes)
        return outcomes

    def plan_new(self, order, target, new_orders):
        values = order.values
        if values["amount"] is None and not order.row.errors:
            order.row.error("amount", "A new order needs an amount.")
        if values["status"] == Order.Status.BLOCKED:
            order.row.error("status", "Orders are blocked by the blacklist, not by a file.")
        dropoff = self.plan_dropoff(order.row, target, order.address) if order.address else None
        if order.row.errors:
            return Outcome.ERROR
        if dropoff:
            self.add_dropoff(target, dropoff)
        # As record_order: a new customer takes the row's contact data, a known one only fills blanks.
        for name, value in order.contact.items():
            if value and not target.contact.get(name):
                target.contact[name] = value
                if not target.is_new:
                    target.changes[name] = [target.old.get(name), value]
        target.rows += 1
        new_orders.append((order, target))
        return Outcome.NEW

    def plan_change(self, order, target, existing, changes):
        row, values = order.row, order.values
        if target.customer_id != existing["customer_id"]:
            row.error("phone", f"Order {order.external_id} belongs to another customer.")
            return Outcome.ERROR
        for name in FIXED_ORDER_FIELDS:
            given, recorded = values[name], existing[name]
            if name == "placed_at" and given:
                given, recorded = given.replace(microsecond=0), recorded.replace(microsecond=0)
            if given not in (None, "") and given != recorded:
                shown = (
                    timezone.localtime(recorded).strftime("%Y-%m-%d %H:%M:%S")
                    if name == "placed_at"
                    else recorded
                )
                row.error(name, f"Differs from the recorded order ({shown}); an import does not change it.")
        status = values["status"] if values["status"] not in ("", existing["status"]) else None
        if status == Order.Status.BLOCKED:
            row.error("status", "Orders are blocked by the blacklist, not by a file.")
        address = None
        if order.address:
            key = address_key(order.address)
            if target.dropoff_ids.get(key, -1) != existing["dropoff_id"]:
                dropoff = self.plan_dropoff(row, target, order.address)
                if dropoff:
                    self.add_dropoff(target, dropoff)
                address = order.address
        if row.errors:
            return Outcome.ERROR
        if not status and not address:
            return Outcome.UNCHANGED
        changes.append((existing["id"], status, address))
        return Outcome.UPDATED

    @transaction.atomic
    def write(self, targets, new_orders, changes):
        activities = []
        # As record_order's fill_blank_contact: filling blanks leaves no timeline entry.
        self.save_targets(targets, activities, log_changes=False)
        self.save_dropoffs(targets)
        orders, creators = [], set()
        for order, target in new_orders:
            values = order.values
            status = (
                Order.Status.BLOCKED if target.blacklisted else values["status"] or Order.Status.COMPLETED
            )
            placed_at = values["placed_at"] or self.now
            dropoff_id = target.dropoff_ids[address_key(order.address)] if order.address else None
            orders.append(
                {
                    "business_id": self.business.pk,
                    "external_id": order.external_id,
                    "customer_id": target.customer_id,
                    "dropoff_id": dropoff_id,
                    "amount": values["amount"],
                    "currency": values["currency"] or self.business.currency.upper(),
                    "status": status,
                    "placed_at": placed_at,
                    "completed_at": placed_at if status == Order.Status.COMPLETED else None,
                    "source": values["source"],
                    # As record_order: only the order that brought the customer created it.
                    "created_customer": target.created and id(target) not in creators,
                    "created_at": self.now,
                }
            )
            creators.add(id(target))
        inserted = dict(
            insert_returning(
                Order,
                orders,
                conflict="ON CONFLICT (business_id, external_id) DO NOTHING",
                returning="external_id, id",
            )
        )
        items, customer_ids = [], set()
        for (order, target), values in zip(new_orders, orders, strict=True):
            order_id = inserted.get(order.external_id)
            if order_id is None:
                continue  # recorded a moment ago by the API: nothing of this row is written twice
            customer_ids.add(target.customer_id)
            items += [{"business_id": self.business.pk, "order_id": order_id, **item} for item in order.items]
            activities.append(
                self.activity(
                    target,
                    Activity.Kind.ORDER_RECORDED,
                    order_id=order_id,
                    external_id=order.external_id,
                    amount=str(values["amount"]),
                    currency=values["currency"],
                    status=values["status"],
                )
            )
        bulk_insert(OrderItem, items)
        recompute_stats(customer_ids)
        bulk_insert(Activity, activities)
        if inserted:
            orders_imported.send(
                sender=Order,
                business=self.business,
                order_ids=sorted(inserted.values()),
                customer_ids=sorted(customer_ids),
            )
        for order_id, status, address in changes:
            order = Order.objects.select_related("customer").get(pk=order_id)
            self.change_order(order=order, status=status, address=address, actor=self.actor)


# Set-based writes -------------------------------------------------------------------------------

# Prepared by Django for the database (time zones, decimals, JSON); other values go as they are.
PREPARED_TYPES = {"DateTimeField", "DateField", "DecimalField", "JSONField"}


def bulk_insert(model, rows, returning_ids=False):
    """Insert rows (dicts by attribute name): COPY on PostgreSQL, as the demo data does."""
    if not rows:
        return []
    writer = demo.CopyWriter() if connection.vendor == "postgresql" else demo.BulkCreateWriter()
    return writer.insert(model, rows, returning_ids) or []


def insert_returning(model, rows, *, conflict, returning):
    """INSERT the rows (dicts by attribute name; missing fields take their defaults) in
    batches with an ON CONFLICT clause; returns the RETURNING tuples."""
    if not rows:
        return []
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    if connection.vendor == "postgresql":
        return copy_insert_returning(model, fields, defaults, rows, conflict=conflict, returning=returning)
    prepared = {f.attname: f for f in fields if f.get_internal_type() in PREPARED_TYPES}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    results = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_BATCH):
            batch = rows[start : start + INSERT_BATCH]
            params = []
            for row in batch:
                for name, default in defaults.items():
                    value = row.get(name, default)
                    params.append(
                        prepared[name].get_db_prep_save(value, connection) if name in prepared else value
                    )
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES "
                f"{', '.join([placeholders] * len(batch))} {conflict} RETURNING {returning}",
                params,
            )
            results += cursor.fetchall()
    return results


def copy_insert_returning(model, fields, defaults, rows, *, conflict, returning):
    """COPY the rows into a temporary table, then INSERT them from there: COPY is several
    times faster than a long INSERT ... VALUES, which the driver also has to assemble."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    staging = quote(f"import_{model._meta.db_table}")
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS "
            f"AS SELECT {columns} FROM {table} WITH NO DATA"
        )
        cursor.execute(f"DELETE FROM {staging}")
        with cursor.cursor.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row.get(name, default) for name, default in defaults.items()])
        insert = f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging}"
        cursor.execute(f"{insert} {conflict} RETURNING {returning}")
        return cursor.fetchall()


def upsert_customers(business, rows, now):
    """Insert or update customers by phone, as one statement per batch whatever another
    request does meanwhile: a blank value never overwrites a stored one. `rows` are
    (phone, contact, search_text); returns {phone: id}."""
    table = connection.ops.quote_name(Customer._meta.db_table)
    updates = [
        f"{name} = COALESCE(NULLIF(EXCLUDED.{name}, ''), {table}.{name})"
        for name in ["first_name", "last_name", "email", "language"]
    ]
    updates += [
        f"date_of_birth = COALESCE(EXCLUDED.date_of_birth, {table}.date_of_birth)",
        "search_text = EXCLUDED.search_text",
        "updated_at = EXCLUDED.updated_at",
    ]
    records = [
        {
            "business_id": business.pk,
            "phone": phone,
            **{
                name: value
                for name, value in contact.items()
                if name in CONTACT_COLUMNS and value is not None
            },
            "search_text": search_text,
            "created_at": now,
            "updated_at": now,
        }
        for phone, contact, search_text in rows
    ]
    conflict = f"ON CONFLICT (business_id, phone) WHERE deleted_at IS NULL DO UPDATE SET {', '.join(updates)}"
    return {
        phone: pk
        for pk, phone in insert_returning(Customer, records, conflict=conflict, returning="id, phone")
    }


def recompute_stats(customer_ids):
    """`services.recompute_stats` for many customers, in one UPDATE from one aggregate (the
    customers without a counted order keep their stats: adding orders that do not count
    changes nothing)."""
    if not customer_ids:
        return
    ids = sorted(customer_ids)
    statuses = list(Order.COUNTED_STATUSES)
    customers, orders = Customer._meta.db_table, Order._meta.db_table
    sql = f"""
        UPDATE {customers} SET order_count = stats.order_count, total_spent = stats.total_spent,
            first_order_at = stats.first_order_at, last_order_at = stats.last_order_at
        FROM (
            SELECT customer_id, COUNT(*) AS order_count, SUM(amount) AS total_spent,
                   MIN(placed_at) AS first_order_at, MAX(placed_at) AS last_order_at
            FROM {orders}
            WHERE customer_id IN ({", ".join(["%s"] * len(ids))})
              AND status IN ({", ".join(["%s"] * len(statuses))})
            GROUP BY customer_id
        ) AS stats
        WHERE {customers}.id = stats.customer_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ids, *statuses])
