"""Reading an import file as a table: CSV in any of the usual encodings (detected, or
chosen on the form) or XLSX, within the limits of size, rows and cells that keep a bad
file from exhausting the worker."""

import codecs
import csv
import datetime as dt
import io
import itertools
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from xml.parsers import expat

from django.conf import settings

from customers.normalize import restore_formulas

# The longest cell a file may have, CSV or XLSX: the csv module's default field limit.
MAX_CELL_CHARS = 131_072
ENCODINGS = {
    "auto": "Detect (UTF-8 with or without BOM, else Windows-1252)",
    "utf-8": "UTF-8",
    "cp1252": "Windows-1252 (Excel on Windows)",
    "latin-1": "Latin-1",
}


class ImportFileError(Exception):
    """The file as a whole cannot be read or imported; the message is for the user."""


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
    'A cell of this row runs over several lines and holds what looks like a whole row: a quote (") '
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
                line.count(delimiter) >= row_delimiters for value in values for line in value.splitlines()[1:]
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
                f'Row {number + 1} opens a quote (") that is never closed, so it would swallow every '
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
