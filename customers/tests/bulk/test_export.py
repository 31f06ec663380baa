"""Exports of the customer list and its orders: filters, formulas, round trips, jobs, tenancy."""

import csv
import datetime as dt
import io
from contextlib import closing
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DEFAULT_DB_ALIAS, connections

from conftest import requires_postgres
from customers import services
from customers.bulk import exports
from customers.models import Customer, Dropoff, ExportJob, ImportJob, Job, Membership, Order
from customers.normalize import CELL_SEPARATORS, FORMULA_PREFIXES, PLAIN_NUMBER, neutralize
from customers.resources import RESOURCES, CustomerResource

NASTY = ["=1+1", "==HYPERLINK(x)", "+1+cmd", "-2-x", "@SUM(A1)", "\tx", "\rx", "\0x"]
# What a database and an XLSX file keep as it is (no NUL, no lone CR).
STORED_NASTY = NASTY[:6]


@pytest.fixture
def people(business, owner):
    for number, name in enumerate(["Ann", *NASTY[:4]], start=101):
        services.record_order(
            business=business,
            external_id=f"A-{number}",
            phone=f"+1415555{number:04d}",
            amount="12.50",
            first_name=name,
            last_name=STORED_NASTY[number % len(STORED_NASTY)],
            source=STORED_NASTY[(number + 3) % len(STORED_NASTY)],
            address={"street": f"{number} Main St", "city": "=cmd|' /C calc'!A0", "country": "US"},
            items=[{"sku": "P1", "name": "Pizza", "quantity": 1, "price": "12.50"}],
        )
    customer = Customer.objects.get(first_name="Ann")
    services.tag_customer(customer=customer, name="-vip", actor=owner)
    return Customer.objects.all()


def export(client, kind="customers", file_format="csv", query=""):
    response = client.post(f"/customers/export/{query}", {"kind": kind, "format": file_format})
    assert response.status_code == 200, response.content[:300]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def csv_rows(body):
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def xlsx_rows(body):
    return [list(row) for row in openpyxl.load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True)]


def would_run_a_formula(cell):
    """Whether a spreadsheet would run this cell, or a part of it that a semicolon or comma
    locale splits off, as a formula."""
    return isinstance(cell, str) and any(
        fragment and fragment[0] in FORMULA_PREFIXES and not PLAIN_NUMBER.fullmatch(fragment)
        for fragment in CELL_SEPARATORS.split(cell)
    )


@pytest.mark.parametrize("value", [*NASTY, "=", "=="])
def test_neutralize_quotes_every_formula_start_and_leaves_other_values(value):
    assert neutralize(value) == "'" + value
    for other in ["Ann", "", None, 12, Decimal("-3.5"), dt.date(2026, 1, 1), True, "+12159478995", "-3.50"]:
        assert neutralize(other) == other


def test_neutralize_quotes_every_fragment_a_semicolon_or_comma_locale_would_split_off():
    assert neutralize("x;=cmd|' /C calc'!A0") == "x;'=cmd|' /C calc'!A0"
    assert neutralize("vip;=evil,@x") == "vip;'=evil,'@x"
    assert neutralize("1 Main St, -2") == "1 Main St, -2"


def test_no_exported_cell_starts_with_a_formula_character(people, owner, client_for):
    client = client_for(owner)
    tables = [
        csv_rows(export(client)[1])[1:],
        csv_rows(export(client, "orders")[1])[1:],
        xlsx_rows(export(client, file_format="xlsx")[1])[1:],
        xlsx_rows(export(client, "orders", "xlsx")[1])[1:],
    ]

    for table in tables:
        assert table
        for row in table:
            for cell in row:
                assert not would_run_a_formula(cell), row
    assert "'=1+1" in {cell for row in tables[0] for cell in row}


def test_a_cell_with_a_formula_after_a_semicolon_is_quoted_with_each_fragment_neutralized(
    people, owner, client_for
):
    ann = Customer.objects.get(first_name="Ann")
    services.tag_customer(customer=ann, name="=HYPERLINK(x)", actor=owner)
    Customer.objects.filter(pk=ann.pk).update(last_name="x;=cmd|' /C calc'!A0")

    _, body = export(client_for(owner), query="?q=Ann")

    text = body.decode("utf-8-sig")
    assert "\"x;'=cmd|' /C calc'!A0\"" in text
    assert "\"'-vip;'=HYPERLINK(x)\"" in text
    assert '"+14155550101"' in text  # a phone is no formula: it exports as itself


def test_xlsx_keeps_numbers_dates_and_empty_cells_as_such(people, owner, client_for):
    header, *rows = xlsx_rows(export(client_for(owner), file_format="xlsx")[1])
    row = dict(zip(header, rows[0], strict=True))

    assert isinstance(row["id"], int) and isinstance(row["order_count"], int)
    assert row["total_spent"] == 12.5
    assert isinstance(row["created_at"], dt.datetime) and row["date_of_birth"] is None


def test_the_export_follows_the_lists_filter(people, owner, client_for):
    rows = csv_rows(export(client_for(owner), query="?q=Ann")[1])

    assert [row[2] for row in rows] == ["first_name", "Ann"]
    assert rows[1][7] == "'-vip"


def test_export_then_import_round_trips(people, owner, client_for):
    client = client_for(owner)
    for kind in ("customers", "orders"):
        for file_format in ("csv", "xlsx"):
            _, body = export(client, kind, file_format)
            file = SimpleUploadedFile(f"export.{file_format}", body)
            client.post("/customers/import/", {"kind": kind, "file": file, "encoding": "auto"})
            job = ImportJob.objects.latest("pk")
            assert (job.created_count, job.updated_count, job.error_count) == (0, 0, 0), job.preview
            assert job.unchanged_count == 5


def test_a_big_export_runs_as_a_job_whose_file_only_its_requester_downloads(
    people, business, owner, make_member, client_for, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_SYNC_MAX_ROWS = 2
    client = client_for(owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/customers/export/", {"kind": "customers", "format": "csv"})

    job = ExportJob.objects.get()
    assert response["Location"] == f"/customers/export/{job.pk}/"
    assert (job.status, job.total_rows, job.rows_done) == ("done", 5, 5)
    download = client.get(f"/customers/export/{job.pk}/download/")
    assert len(csv_rows(b"".join(download.streaming_content))) == 6
    other_owner = client_for(make_member(business, Membership.Role.OWNER, username="second-owner"))
    assert other_owner.get(f"/customers/export/{job.pk}/download/").status_code == 404


def test_exports_need_the_export_permission_and_stay_in_the_business(
    people, support, other_business, make_member, client_for
):
    assert client_for(support).post("/customers/export/", {"format": "csv"}).status_code == 403
    stranger = client_for(make_member(other_business, Membership.Role.OWNER))
    rows = csv_rows(export(stranger)[1])
    assert len(rows) == 1


def test_the_admin_export_is_scoped_and_neutralized(people, other_business, owner, client_for):
    services.get_or_create_customer(business=other_business, phone="+14155550101", first_name="=Other")

    fields = {f"customerresource_{name}": "on" for name in CustomerResource.Meta.fields}
    response = client_for(owner).post(
        "/admin/customers/customer/export/", {"format": 0, "resource": 0, **fields}
    )

    rows = csv_rows(response.content)
    assert len(rows) == 6
    assert "'=1+1" in {cell for row in rows for cell in row}
    assert not any(would_run_a_formula(cell) for row in rows for cell in row)


def table_of_customers():
    customers = Customer.objects.order_by("pk").values_list(
        "pk", "phone", "first_name", "last_name", "email", "date_of_birth", "language", "updated_at"
    )
    tags = Customer.tags.through.objects.order_by("pk").values_list("customer_id", "tag__name")
    dropoffs = Dropoff.objects.order_by("pk").values_list("customer_id", "street", "city", "country")
    return list(customers), list(tags), list(dropoffs), list(Order.objects.values_list("pk", "status"))


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_customers_exported_then_imported_back_change_nothing(people, owner, client_for, file_format):
    ann = Customer.objects.get(first_name="Ann")
    services.tag_customer(customer=ann, name="=HYPERLINK(x)", actor=owner)
    Customer.objects.filter(pk=ann.pk).update(last_name="x;=cmd|' /C calc'!A0", email="ann@example.com")
    before = table_of_customers()
    client = client_for(owner)

    _, body = export(client, "customers", file_format)
    client.post(
        "/customers/import/",
        {"kind": "customers", "file": SimpleUploadedFile(f"export.{file_format}", body), "encoding": "auto"},
    )
    job = ImportJob.objects.get()
    client.post(f"/customers/import/{job.pk}/confirm/")

    job.refresh_from_db()
    assert (job.status, job.unchanged_count, job.error_count) == ("done", 5, 0), job.preview
    assert table_of_customers() == before


@pytest.mark.parametrize("kind", ["customers", "orders"])
def test_the_set_based_export_gives_the_resources_rows(people, business, kind):
    Customer.objects.filter(first_name="Ann").update(date_of_birth=dt.date(1980, 2, 29))
    resource = RESOURCES[kind](business=business)
    queryset = exports.queryset_for(business, kind, {})
    expected = [resource.get_export_headers()] + [
        resource.export_resource(obj, force_native_type=True) for obj in resource.filter_export(queryset)
    ]

    assert list(exports.export_rows(kind, queryset)) == expected


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_an_export_job_shows_its_progress_while_it_streams(people, business, owner, monkeypatch):
    monkeypatch.setattr(exports, "EXPORT_CHUNK", 2)
    job = ExportJob.objects.create(business=business, actor=owner, kind="customers", format="csv")
    write_csv = exports.write_csv
    seen = []

    def watching(rows, stream):
        def rows_watched():
            for row in rows:
                # What the job page reads meanwhile, through a connection of its own.
                watcher = connections.create_connection(DEFAULT_DB_ALIAS)
                with closing(watcher), watcher.cursor() as cursor:
                    cursor.execute(f"SELECT rows_done FROM {Job._meta.db_table} WHERE id = {job.pk}")
                    seen.append(cursor.fetchone()[0])
                yield row

        write_csv(rows_watched(), stream)

    monkeypatch.setattr(exports, "write_csv", watching)

    services.run_export_job(job.pk)

    job.refresh_from_db()
    assert (job.status, job.rows_done) == ("done", 5)
    assert seen == [0, 0, 2, 2, 4, 4]  # at the header, then at each row


def test_the_picked_rows_export_just_those_rows_from_the_bulk_page(people, owner, client_for):
    ann, other = Customer.objects.filter(first_name__in=["Ann", "=1+1"]).order_by("first_name")
    client = client_for(owner)
    query = f"?ids={ann.pk}&ids={other.pk}"

    page = client.get(f"/customers/bulk/{query}").content.decode()
    rows = csv_rows(export(client, query=f"?ids={ann.pk},{other.pk}")[1])

    assert 'aria-label="Export"' in page and f"ids={ann.pk}%2C{other.pk}" in page
    phone = rows[0].index("phone")
    assert sorted(row[phone] for row in rows[1:]) == sorted([ann.phone, other.phone])
