"""Importing customers and orders: dry run, row errors, encodings, upserts, tenancy, limits."""

import io
import tracemalloc
import zipfile
from contextlib import contextmanager
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError

from customers import services
from customers.bulk import columns, tables
from customers.models import Activity, Customer, Dropoff, Order, OrderItem, Tag
from customers.signals import orders_imported

CUSTOMERS = (
    "phone,first_name,last_name,email,date_of_birth,language,tags,street,city,state,postal_code,country\n"
    "+1 415 555 0101,José,Núñez,jose@example.com,1980-02-29,es,vip;late payer,1 Main St,Springfield,IL,"
    "62701,us\n"
    "(415) 555-0102,Zoë,Brontë,zoe@example.com,,en,,,,,,\n"
)


def csv_bytes(text, encoding="utf-8"):
    return text.encode(encoding)


def opener(data, encoding="auto"):
    @contextmanager
    def open_table():
        with tables.open_table(io.BytesIO(data), encoding=encoding) as table:
            yield table

    return open_table


class Collected:
    def __init__(self):
        self.outcomes = []

    def start(self, step, headers):
        self.outcomes = []

    def row(self, outcome, values):
        self.outcomes.append(outcome)

    def progress(self, step, rows):
        pass


def run_import(business, data, kind="customers", actor=None, **options):
    collected = Collected()
    counts, written = services.import_rows(
        business=business, actor=actor, kind=kind, open_table=opener(data), collector=collected, **options
    )
    return counts, written, collected.outcomes


def snapshot():
    return [model.objects.count() for model in (Customer, Activity, Tag, Dropoff, Order, OrderItem)]


def test_a_dry_run_says_what_would_happen_and_writes_nothing(business):
    before = snapshot()

    counts, written, outcomes = run_import(business, csv_bytes(CUSTOMERS), dry_run=True)

    assert (counts.created, counts.errors, written) == (2, 0, False)
    assert [(o.number, o.status, o.key) for o in outcomes] == [
        (2, "new", "+14155550101"),
        (3, "new", "+14155550102"),
    ]
    assert snapshot() == before


def test_customers_import_like_the_services_stats_timeline_tags_address_and_search(business, owner):
    counts, written, _ = run_import(business, csv_bytes(CUSTOMERS), actor=owner)

    assert written and (counts.created, counts.updated, counts.errors) == (2, 0, 0)
    jose = Customer.objects.get(phone="+14155550101")
    assert (jose.first_name, jose.last_name, jose.email, str(jose.date_of_birth), jose.language) == (
        "José",
        "Núñez",
        "jose@example.com",
        "1980-02-29",
        "es",
    )
    assert jose.search_text == "jose nunez jose@example.com"
    assert sorted(jose.tags.values_list("name", flat=True)) == ["late payer", "vip"]
    dropoff = jose.dropoffs.get()
    assert (dropoff.street, dropoff.country, dropoff.is_default) == ("1 Main St", "US", True)
    assert dropoff.address_key == services.address_key(
        {"street": "1 Main St", "city": "Springfield", "state": "IL", "postal_code": "62701", "country": "US"}
    )
    kinds = sorted(jose.activities.values_list("kind", flat=True))
    assert kinds == ["created", "tagged", "tagged"]
    assert jose.activities.get(kind="created").actor == owner


def test_one_bad_row_imports_nothing_and_names_its_row_and_column(business):
    bad = CUSTOMERS + "not a phone,Bad,Row,,,,,,,,,\n+1 415 555 0104,Ok,Row,nope,,,,,,,,\n"
    before = snapshot()

    counts, written, outcomes = run_import(business, csv_bytes(bad))

    assert not written and snapshot() == before
    errors = [(o.number, o.errors) for o in outcomes if o.status == "error"]
    assert errors == [
        (4, [("phone", "“not a phone” is not a phone number.")]),
        (5, [("email", "“nope” is not an email address.")]),
    ]
    assert (counts.created, counts.errors) == (2, 2)


def test_valid_rows_only_imports_the_others(business):
    bad = CUSTOMERS + "12,Bad,Row,,,,,,,,,\n"

    counts, written, _ = run_import(business, csv_bytes(bad), valid_only=True)

    assert written and (counts.created, counts.errors) == (2, 1)
    assert Customer.objects.count() == 2


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_utf8_utf8_with_bom_and_windows_1252_files_import_identically(business, encoding):
    run_import(business, csv_bytes(CUSTOMERS, encoding))

    people = Customer.objects.order_by("phone").values_list("phone", "first_name", "last_name", "search_text")
    assert list(people) == [
        ("+14155550101", "José", "Núñez", "jose nunez jose@example.com"),
        ("+14155550102", "Zoë", "Brontë", "zoe bronte zoe@example.com"),
    ]
    assert Tag.objects.count() == 2


def test_header_names_ignore_case_and_spaces_and_unknown_columns_are_ignored(business):
    data = csv_bytes(" Phone ;FIRST NAME;Last-Name;Favourite colour\n4155550101;Ann;Lee;blue\n")

    with tables.open_table(io.BytesIO(data)) as table:
        positions, ignored = columns.map_headers(table.headers, "customers")
    counts, _, _ = run_import(business, data)

    assert positions == {"phone": 0, "first_name": 1, "last_name": 2} and ignored == ["Favourite colour"]
    assert counts.created == 1
    assert Customer.objects.get().display_name == "Ann Lee"


def test_reimporting_updates_instead_of_duplicating_and_phone_variants_are_one_customer(business, owner):
    run_import(business, csv_bytes(CUSTOMERS), actor=owner)
    again = (
        "phone,first_name,last_name,email,tags,street,city,state,postal_code,country\n"
        "415.555.0101,José,Núñez,,vip,1 MAIN ST.,springfield,il,62701,US\n"  # nothing new
        "+14155550102,Zoe,,,new tag,,,,,\n"  # a new first name and a tag
        "+1 (415) 555-0102,,,,,2 Elm St,,,,\n"  # the same person again, with an address
    )

    counts, written, outcomes = run_import(business, csv_bytes(again), actor=owner)

    assert [o.status for o in outcomes] == ["unchanged", "updated", "updated"]
    assert Customer.objects.count() == 2
    zoe = Customer.objects.get(phone="+14155550102")
    assert (zoe.first_name, zoe.last_name, zoe.search_text) == ("Zoe", "Brontë", "zoe bronte zoe@example.com")
    assert zoe.dropoffs.count() == 1 and zoe.dropoffs.get().is_default
    change = zoe.activities.get(kind=Activity.Kind.CONTACT_UPDATED)
    assert change.data == {"changes": {"first_name": ["Zoë", "Zoe"]}} and change.actor == owner
    assert Customer.objects.get(phone="+14155550101").dropoffs.count() == 1
    third, _, outcomes = run_import(business, csv_bytes(again))
    assert (third.created, third.updated, third.unchanged) == (0, 0, 3)


def test_ids_of_another_business_are_rejected(business, other_business):
    theirs, _ = services.get_or_create_customer(business=other_business, phone="+14155550101")
    order = services.record_order(
        business=other_business, external_id="X-1", phone="+14155550101", amount="5"
    )
    customers = f"id,phone\n{theirs.pk},+14155550101\n"
    orders = f"id,external_id,phone,amount\n{order.order.pk},X-1,+14155550101,5\n"

    customer_counts, _, customer_outcomes = run_import(business, csv_bytes(customers))
    order_counts, _, order_outcomes = run_import(business, csv_bytes(orders), kind="orders")

    assert customer_counts.errors == 1 and customer_outcomes[0].errors[0][0] == "id"
    assert order_counts.errors == 1 and order_outcomes[0].errors[0][0] == "id"
    assert not Customer.objects.filter(business=business).exists()
    assert not Order.objects.filter(business=business).exists()


ORDERS = (
    "external_id,phone,first_name,amount,currency,placed_at,status,source,street,city,postal_code,country,items\n"
    "A-1,+1 415 555 0101,Ann,42.50,usd,2026-11-01 12:00:00,completed,doordash,1 Main St,Springfield,12345,US,"
    '"[{""sku"": ""P1"", ""name"": ""Pizza"", ""quantity"": 2, ""price"": ""21.25""}]"\n'
    "A-2,(415) 555-0101,,10,,2026-11-02T09:30:00+00:00,pending,,1 MAIN ST.,springfield,12345,us,\n"
    "B-1,+1 415 555 0199,Bob,7.5,,,,,,,,,\n"
)


def test_orders_import_like_record_order_customers_stats_timeline_and_one_signal(business, owner):
    services.blacklist_customer(
        customer=services.get_or_create_customer(business=business, phone="+14155550199")[0],
        reason="fraud",
        actor=owner,
    )
    received = []
    orders_imported.connect(lambda **kwargs: received.append(kwargs), weak=False, dispatch_uid="test-import")
    try:
        counts, written, _ = run_import(business, csv_bytes(ORDERS), kind="orders", actor=owner)
    finally:
        orders_imported.disconnect(dispatch_uid="test-import")

    assert written and (counts.created, counts.errors) == (3, 0)
    ann = Customer.objects.get(phone="+14155550101")
    assert (ann.first_name, ann.order_count, ann.total_spent) == ("Ann", 1, Decimal("42.50"))
    assert ann.first_order_at == ann.last_order_at == Order.objects.get(external_id="A-1").placed_at
    first, second = Order.objects.filter(customer=ann).order_by("external_id")
    assert first.created_customer and not second.created_customer
    assert first.dropoff_id == second.dropoff_id and ann.dropoffs.count() == 1
    assert (first.currency, first.completed_at, second.status, second.completed_at) == (
        "USD",
        first.placed_at,
        "pending",
        None,
    )
    assert list(first.items.values_list("sku", "quantity", "price")) == [("P1", 2, Decimal("21.25"))]
    assert Order.objects.get(external_id="B-1").status == Order.Status.BLOCKED
    assert sorted(ann.activities.values_list("kind", flat=True)) == [
        "created",
        "order_recorded",
        "order_recorded",
        "points_changed",  # the loyalty app's earn for A-1
    ]
    [signal] = received
    assert signal["business"] == business and len(signal["order_ids"]) == 3


def test_reimporting_orders_changes_status_and_address_through_the_services_and_nothing_else(business, owner):
    run_import(business, csv_bytes(ORDERS), kind="orders")
    changed = (
        "external_id,phone,amount,status,street\n"
        "A-1,+14155550101,42.50,refunded,\n"  # status change: stats recomputed
        "A-2,+14155550101,,,9 Oak Ave\n"  # address change: original kept
        "B-1,+14155550199,99,,\n"  # a recorded amount is not rewritten
    )

    counts, written, outcomes = run_import(
        business, csv_bytes(changed), kind="orders", actor=owner, valid_only=True
    )

    assert [o.status for o in outcomes] == ["updated", "updated", "error"]
    assert outcomes[2].errors[0][0] == "amount"
    ann = Customer.objects.get(phone="+14155550101")
    assert (ann.order_count, ann.total_spent) == (0, Decimal("0"))
    moved = Order.objects.get(external_id="A-2")
    assert moved.dropoff.street == "9 Oak Ave" and moved.original_dropoff.street == "1 Main St"
    assert ann.activities.filter(kind=Activity.Kind.ORDER_STATUS_CHANGED, actor=owner).count() == 1
    again, _, _ = run_import(business, csv_bytes(changed.replace(",99,", ",7.50,")), kind="orders")
    assert (again.created, again.updated, again.unchanged, again.errors) == (0, 0, 3, 0)


def test_an_order_file_with_the_same_external_id_twice_is_refused(business):
    data = "external_id,phone,amount\nA-1,+14155550101,1\nA-1,+14155550101,1\n"

    counts, written, outcomes = run_import(business, csv_bytes(data), kind="orders")

    assert not written and outcomes[1].errors == [("external_id", "A-1 is also on row 2.")]


def test_xlsx_files_import_with_dates_and_numbers_as_cells(business):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Phone", "First Name", "Date of birth"])
    sheet.append([4155550101, "Ann", __import__("datetime").datetime(1990, 5, 17)])
    stream = io.BytesIO()
    workbook.save(stream)

    counts, written, _ = run_import(business, stream.getvalue())

    assert written and counts.created == 1
    assert str(Customer.objects.get(phone="+14155550101").date_of_birth) == "1990-05-17"


def test_an_xlsx_zip_bomb_is_refused_before_it_is_opened(business, settings):
    settings.IMPORT_MAX_XLSX_UNPACKED_BYTES = 10_000_000
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b"a" * 20_000_000)

    with pytest.raises(tables.ImportFileError, match="zip bomb"):
        run_import(business, stream.getvalue())


def test_files_over_the_size_or_row_limit_are_refused_with_a_clear_message(business, settings):
    settings.IMPORT_MAX_FILE_BYTES = 100
    with pytest.raises(tables.ImportFileError, match="larger than the limit"):
        run_import(business, csv_bytes(CUSTOMERS * 3))
    settings.IMPORT_MAX_FILE_BYTES = 10_000
    settings.IMPORT_MAX_ROWS = 1
    with pytest.raises(tables.ImportFileError, match="more than 1 rows"):
        run_import(business, csv_bytes(CUSTOMERS))
    assert not Customer.objects.exists()


def test_a_file_without_the_required_columns_is_refused(business):
    with pytest.raises(ValidationError, match="Missing column"):
        services.check_import_file(
            io.BytesIO(b"name,email\nAnn,a@example.com\n"), kind="customers", encoding="auto"
        )


def test_a_file_with_utf8_rows_and_a_windows_1252_row_refuses_that_row_instead_of_storing_mojibake(business):
    data = (
        b"phone,first_name\n"
        + "+14155550101,José\n".encode()
        + "+14155550102,Zoë\n".encode("cp1252")
        + b"+14155550103,Ann\n"
    )

    counts, written, outcomes = run_import(business, data, valid_only=True)

    assert written and (counts.created, counts.errors) == (2, 1)
    assert [outcome.number for outcome in outcomes if outcome.errors] == [3]
    assert "not UTF-8" in outcomes[1].message
    assert list(Customer.objects.order_by("phone").values_list("first_name", flat=True)) == ["José", "Ann"]


def test_an_unterminated_quote_is_refused_naming_its_row_instead_of_swallowing_the_next_rows(business):
    at_the_end = b'phone,first_name\n+14155550101,Ann\n+14155550102,"Bob\n+14155550103,Carl\n'
    closed_later = b'phone,first_name\n+14155550101,"Ann\n+14155550102,Bob",\n+14155550103,Carl\n'

    with pytest.raises(tables.ImportFileError, match="Row 3 opens a quote"):
        run_import(business, at_the_end)
    counts, written, outcomes = run_import(business, closed_later)

    assert not written and counts.errors == 1
    assert outcomes[0].number == 2 and "a quote" in outcomes[0].message
    assert not Customer.objects.exists()


SHARED_STRINGS = (
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
    "<si><t>{}</t></si></sst>"
)


def xlsx_with_a_long_cell(text, shared):
    """An XLSX of one customer whose first name is `text`, as a shared string or in the
    cell itself: a few KB zipped."""
    workbook = openpyxl.Workbook()
    workbook.active.append(["phone", "first_name"])
    workbook.active.append(["+14155550101", "PLACEHOLDER"])
    plain = io.BytesIO()
    workbook.save(plain)
    cell = b'<c r="B2" t="inlineStr"><is><t>PLACEHOLDER</t></is></c>'
    namespace = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
    stream = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info)
            if not shared:
                data = data.replace(b"PLACEHOLDER", text.encode())
            elif info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(cell, b'<c r="B2" t="s"><v>0</v></c>')
            elif info.filename == "xl/_rels/workbook.xml.rels":
                link = f'<Relationship Type="{namespace.decode()}" Target="sharedStrings.xml" Id="rId9" />'
                data = data.replace(b"</Relationships>", link.encode() + b"</Relationships>")
            elif info.filename == "[Content_Types].xml":
                kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
                override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{kind}" />'
                data = data.replace(b"</Types>", override.encode() + b"</Types>")
            archive.writestr(info.filename, data)
        if shared:
            archive.writestr("xl/sharedStrings.xml", SHARED_STRINGS.format(text))
    return stream.getvalue()


def test_an_xlsx_with_its_strings_shared_imports(business):
    counts, written, _ = run_import(business, xlsx_with_a_long_cell("Ann", shared=True))

    assert written and counts.created == 1
    assert Customer.objects.get().first_name == "Ann"


@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("text", ["x" * 30_000_000, "Ann" + " " * 30_000_000])
def test_an_xlsx_cell_longer_than_a_csv_cell_may_be_is_refused_while_memory_stays_bounded(
    business, text, shared
):
    data = xlsx_with_a_long_cell(text, shared)
    assert len(data) < 100_000

    tracemalloc.start()
    try:
        with pytest.raises(tables.ImportFileError, match="a cell of more than 131,072 characters"):
            run_import(business, data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert peak < 5_000_000
    assert not Customer.objects.exists()
