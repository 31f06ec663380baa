"""Exports of the customer list and its orders: filters, formulas, round trips, jobs, tenancy."""

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from customers import exports, services
from customers.models import Customer, ExportJob, ImportJob, Membership
from customers.resources import CustomerResource

NASTY = ["=1+1", "==HYPERLINK(x)", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "\0x"]
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


@pytest.mark.parametrize("value", [*NASTY, "=", "=="])
def test_neutralize_quotes_every_formula_start_and_leaves_other_values(value):
    assert exports.neutralize(value) == "'" + value
    for other in ["Ann", "", None, 12, Decimal("-3.5"), dt.date(2026, 1, 1), True]:
        assert exports.neutralize(other) == other


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
                assert not (isinstance(cell, str) and cell[:1] in exports.FORMULA_PREFIXES and cell), row
    assert "'=1+1" in {cell for row in tables[0] for cell in row}


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
    assert not any(cell.startswith(tuple(exports.FORMULA_PREFIXES)) for row in rows for cell in row if cell)
