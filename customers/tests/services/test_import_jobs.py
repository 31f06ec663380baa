"""Customers › Import pages, background jobs, the admin's import and `import_file`."""

import datetime as dt
import io
import os
import tempfile
from contextlib import closing
from pathlib import Path

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections
from django.utils import timezone

from conftest import requires_postgres
from customers import services, tasks
from customers.bulk import chunks
from customers.bulk.chunks import OrderChunk
from customers.models import Activity, Customer, ImportJob, Job, Membership, Order

GOOD = "phone,first_name,tags\n+14155550101,Ann,vip\n+14155550102,Bob,\n"
ONE_BAD = GOOD + "555,Carl,\n"


def upload(client, text, **fields):
    file = SimpleUploadedFile("people.csv", text.encode())
    data = {"kind": "customers", "file": file, "encoding": "auto", **fields}
    return client.post("/customers/import/", data)


def test_an_owner_checks_a_file_sees_each_row_then_confirms(owner, client_for):
    client = client_for(owner)

    response = upload(client, GOOD)

    job = ImportJob.objects.get()
    assert response["Location"] == f"/customers/import/{job.pk}/"
    assert (job.step, job.status, job.created_count, job.error_count) == ("check", "done", 2, 0)
    assert not Customer.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert "Every row can be imported" in page and "+14155550101" in page

    client.post(f"/customers/import/{job.pk}/confirm/")

    job.refresh_from_db()
    assert (job.step, job.status, job.created_count) == ("import", "done", 2)
    assert Customer.objects.count() == 2
    assert Customer.objects.get(first_name="Ann").activities.get(kind="created").actor == owner


def test_a_file_with_a_bad_row_cannot_be_confirmed_and_offers_its_rejected_rows(owner, client_for):
    client = client_for(owner)
    response = upload(client, ONE_BAD)
    job = ImportJob.objects.get()

    page = client.get(response["Location"]).content.decode()
    confirm = client.post(f"/customers/import/{job.pk}/confirm/", follow=True)
    rejected = b"".join(client.get(f"/customers/import/{job.pk}/rejected.csv").streaming_content)

    assert "1 row cannot be imported" in page and ">4<" in page and "“555” is not a valid phone" in page
    assert "not ready to be imported" in confirm.content.decode()
    assert not Customer.objects.exists()
    job.refresh_from_db()
    assert (job.step, job.status) == (ImportJob.Step.CHECK, ImportJob.Status.DONE)
    assert rejected.decode("utf-8-sig").splitlines() == [
        "phone,first_name,tags,error",
        "555,Carl,,Row 4: phone: “555” is not a valid phone number for US.",
    ]


def test_valid_rows_only_imports_the_good_rows(owner, client_for):
    client = client_for(owner)
    upload(client, ONE_BAD, valid_only="on")
    job = ImportJob.objects.get()

    client.post(f"/customers/import/{job.pk}/confirm/")

    job.refresh_from_db()
    assert (job.status, job.created_count, job.error_count) == ("done", 2, 1)
    assert Customer.objects.count() == 2


def test_big_files_are_checked_and_imported_by_a_job(
    owner, client_for, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_SYNC_MAX_ROWS = 1
    client = client_for(owner)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, GOOD)
    job = ImportJob.objects.get()
    assert (job.status, job.total_rows, job.created_count) == ("done", 2, 2)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/customers/import/{job.pk}/confirm/")

    status = client.get(f"/customers/import/{job.pk}/status/").json()
    assert status == {
        "status": "done",
        "label": "Imported",
        "percent": 100,
        "rows_done": 2,
        "total_rows": 2,
        "finished": True,
    }
    assert Customer.objects.count() == 2


def test_a_job_whose_worker_died_reads_lost_then_is_retried_without_duplicates(
    owner, client_for, settings, django_capture_on_commit_callbacks
):
    client = client_for(owner)
    upload(client, GOOD)
    job = ImportJob.objects.get()
    client.post(f"/customers/import/{job.pk}/confirm/")
    assert Customer.objects.count() == 2
    # As if the worker was killed while importing the file again.
    long_ago = timezone.now() - dt.timedelta(seconds=settings.JOB_STALE_SECONDS + 1)
    ImportJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=long_ago)

    page = client.get(f"/customers/import/{job.pk}/").content.decode()
    job.refresh_from_db()
    assert job.status == "running" and "Lost its worker" in page and "Retry" in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/customers/import/{job.pk}/retry/")
    job.refresh_from_db()
    assert (job.status, job.created_count, job.unchanged_count) == ("done", 0, 2)
    assert Customer.objects.count() == 2


def test_a_task_delivered_twice_runs_once(owner, client_for):
    upload(client_for(owner), GOOD)
    job = ImportJob.objects.get()

    assert services.run_import_job(job.pk) is None  # already done: not queued
    assert ImportJob.objects.get().attempts == 1


def test_a_crash_fails_the_job_with_a_plain_message(owner, client_for, monkeypatch):
    monkeypatch.setattr(chunks, "run", lambda **kwargs: 1 / 0)

    upload(client_for(owner), GOOD)

    job = ImportJob.objects.get()
    assert job.status == "failed" and job.failure == services.UNEXPECTED_JOB_ERROR


def test_only_members_with_the_import_permission_reach_the_import_pages(business, support, owner, client_for):
    upload(client_for(owner), GOOD)
    job = ImportJob.objects.get()
    client = client_for(support)

    assert client.get("/customers/import/").status_code == 403
    assert upload(client, GOOD).status_code == 403
    assert client.get(f"/customers/import/{job.pk}/").status_code == 403
    assert client.get("/customers/import/template/customers.csv").status_code == 403


def test_the_template_names_the_columns(owner, client_for):
    response = client_for(owner).get("/customers/import/template/orders.csv")

    assert response.content.decode("utf-8-sig").strip() == (
        "external_id,phone,amount,currency,placed_at,status,source,street,city,postal_code,country"
    )


def test_an_unreadable_file_is_a_form_error(owner, client_for):
    response = upload(client_for(owner), "name\nAnn\n")

    assert response.status_code == 200 and "Missing column(s): phone" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_the_business_comes_from_the_user_never_from_the_file(
    business, other_business, make_member, client_for
):
    member = make_member(other_business, Membership.Role.OWNER)
    client = client_for(member)
    upload(client, "phone,business\n+14155550101,acme\n")
    client.post(f"/customers/import/{ImportJob.objects.get().pk}/confirm/")

    assert Customer.objects.get().business == other_business


ADMIN_IMPORT = "/admin/customers/customer/import/"


def test_the_admin_import_dry_runs_then_imports_into_the_users_business(business, owner, client_for):
    client = client_for(owner)
    file = SimpleUploadedFile("people.csv", "phone,first_name\n+14155550101,José\n".encode("cp1252"))

    preview = client.post(ADMIN_IMPORT, {"import_file": file, "format": 0, "resource": 0})

    assert preview.status_code == 200 and not Customer.objects.exists()
    confirm = preview.context["confirm_form"]
    done = client.post("/admin/customers/customer/process_import/", {**confirm.initial, "resource": 0})
    assert done.status_code == 302
    assert Customer.objects.get().first_name == "José" and Customer.objects.get().business == business


def test_the_admin_import_shows_row_errors_and_imports_nothing(business, owner, client_for):
    file = SimpleUploadedFile("people.csv", b"phone,first_name\n+14155550101,Ann\nxx,Bob\n")

    preview = client_for(owner).post(ADMIN_IMPORT, {"import_file": file, "format": 0, "resource": 0})

    [invalid] = preview.context["result"].invalid_rows
    assert invalid.number == 3 and invalid.error_dict == {"phone": ["“xx” is not a phone number."]}
    assert "confirm_form" not in preview.context and not Customer.objects.exists()


def test_the_admin_import_needs_the_import_permission(support, client_for):
    assert client_for(support).get(ADMIN_IMPORT).status_code == 403


def test_import_file_command_prints_a_summary(business, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(GOOD)
    out, err = io.StringIO(), io.StringIO()

    call_command("import_file", "customers", str(path), "--business", "acme", stdout=out, stderr=err)
    call_command("import_file", "customers", str(path), "--business", "acme", stdout=out, stderr=err)

    assert out.getvalue().splitlines() == [
        "created=2 updated=0 unchanged=0 errors=0",
        "created=0 updated=0 unchanged=2 errors=0",
    ]
    assert "2/2" in err.getvalue()


def test_import_file_command_refuses_a_file_with_errors_unless_valid_only(business, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(ONE_BAD)
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_file", "customers", str(path), "--business", "acme", stdout=out, stderr=err)
    call_command("import_file", "customers", str(path), "--business", "acme", "--valid-only", stdout=out)

    assert "row 4: phone" in err.getvalue()
    assert out.getvalue().splitlines()[-1] == "created=2 updated=0 unchanged=0 errors=1"


def test_an_upload_is_deleted_with_its_rows_once_its_retention_is_over(owner, client_for, settings):
    client = client_for(owner)
    upload(client, ONE_BAD, valid_only="on")
    upload(client, GOOD)
    old, recent = ImportJob.objects.order_by("pk")
    old_files = [old.file.path, old.error_report.path]
    ImportJob.objects.filter(pk=old.pk).update(
        finished_at=timezone.now() - dt.timedelta(days=settings.IMPORT_FILE_DAYS, minutes=1)
    )

    tasks.fail_stale_jobs()  # the sweeper's schedule
    page = client.get(f"/customers/import/{old.pk}/").content.decode()
    confirm = client.post(f"/customers/import/{old.pk}/confirm/", follow=True).content.decode()

    old.refresh_from_db()
    assert not old.file and not old.error_report and old.preview == []
    assert not any(Path(path).exists() for path in old_files)
    assert "+14155550101" not in page and "deleted 7 days after this check" in page
    assert "Upload it again." in confirm and not Customer.objects.exists()
    recent.refresh_from_db()
    assert recent.file and Path(recent.file.path).exists() and recent.can_confirm


def orders_file(count):
    lines = ["external_id,phone,amount"] + [f"A-{n},+1415555{n:04d},10.00" for n in range(count)]
    return "\n".join(lines) + "\n"


def fail_at_the_last_chunk(monkeypatch, chunks):
    """Makes the chunk writer of orders raise on its last call, as the database refusing a row would."""
    write = OrderChunk.write
    calls = []

    def failing_write(self, *args):
        calls.append(1)
        if len(calls) == chunks:
            raise IntegrityError("value too long")
        return write(self, *args)

    monkeypatch.setattr(OrderChunk, "write", failing_write)
    return calls


def test_an_all_or_nothing_import_failing_at_its_last_chunk_leaves_nothing_behind(
    owner, client_for, monkeypatch, settings
):
    monkeypatch.setattr(chunks, "CHUNK_SIZE", 3)
    settings.IMPORT_SYNC_MAX_ROWS = 100
    client = client_for(owner)
    upload(client, orders_file(9), kind="orders")
    job = ImportJob.objects.get()
    assert (job.status, job.created_count, job.error_count) == ("done", 9, 0)
    calls = fail_at_the_last_chunk(monkeypatch, chunks=3)

    client.post(f"/customers/import/{job.pk}/confirm/")

    job.refresh_from_db()
    assert len(calls) == 3
    assert (job.step, job.status, job.failure) == ("import", "failed", services.UNEXPECTED_JOB_ERROR)
    assert (Customer.objects.count(), Order.objects.count(), Activity.objects.count()) == (0, 0, 0)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_an_all_or_nothing_import_job_shows_its_progress_while_its_transaction_is_open(
    business, owner, monkeypatch
):
    monkeypatch.setattr(chunks, "CHUNK_SIZE", 3)
    job = ImportJob(business=business, actor=owner, kind="orders", original_name="orders.csv", step="import")
    job.file.save("orders.csv", ContentFile(orders_file(9).encode()), save=False)
    job.save()
    write = OrderChunk.write
    seen = []

    def watching_write(self, *args):
        # What the job page reads meanwhile, through a connection of its own.
        with closing(connections.create_connection(DEFAULT_DB_ALIAS)) as watcher, watcher.cursor() as cursor:
            cursor.execute(f"SELECT rows_done FROM {Job._meta.db_table} WHERE id = %s", [job.pk])
            seen.append(cursor.fetchone()[0])
        return write(self, *args)

    monkeypatch.setattr(OrderChunk, "write", watching_write)

    services.run_import_job(job.pk)

    job.refresh_from_db()
    assert (job.status, job.created_count, Order.objects.count()) == ("done", 9, 9)
    # Half the progress is the check; during the import the rows of the chunks written so far show.
    assert seen == [4, 6, 7]


def test_the_rejected_rows_of_a_file_repeating_a_long_cell_stay_as_small_as_an_upload(
    owner, client_for, settings
):
    settings.IMPORT_MAX_FILE_BYTES = 20_000
    workbook = openpyxl.Workbook()
    workbook.active.append(["phone", "first_name"])
    for _ in range(50):
        workbook.active.append(["9" * 100_000, "Ann"])  # one shared string, 50 wrong phones
    stream = io.BytesIO()
    workbook.save(stream)

    file = SimpleUploadedFile("people.xlsx", stream.getvalue())
    client_for(owner).post("/customers/import/", {"kind": "customers", "file": file, "encoding": "auto"})

    job = ImportJob.objects.get()
    assert (job.status, job.error_count) == ("done", 50)
    rejected = job.error_report.read().decode("utf-8-sig").splitlines()
    assert job.error_report.size < 2 * settings.IMPORT_MAX_FILE_BYTES
    assert rejected[-1].startswith('"… and ') and rejected[-1].endswith(' more rows with errors, unlisted."')
    assert all(len(line) < 5000 for line in rejected)
    assert all(len(row["key"]) <= 200 and len(row["message"]) <= 2000 for row in job.preview)


def admin_preview(client, text="phone,first_name\n+14155550101,Ann\n"):
    file = SimpleUploadedFile("people.csv", text.encode())
    preview = client.post(ADMIN_IMPORT, {"import_file": file, "format": 0, "resource": 0})
    return preview.context["confirm_form"].initial


def test_the_admin_import_keeps_its_upload_under_a_random_name_in_its_own_folder(owner, client_for, settings):
    confirm = admin_preview(client_for(owner))

    [kept] = (Path(settings.MEDIA_ROOT) / "admin-imports").iterdir()
    assert kept.name in confirm["import_file_name"] and kept.read_text().startswith("phone,")
    client_for(owner).post("/admin/customers/customer/process_import/", {**confirm, "resource": 0})
    assert Customer.objects.count() == 1 and not kept.exists()


def test_the_admin_import_refuses_a_file_name_pointing_at_another_file_of_the_temporary_folder(
    owner, client_for
):
    client = client_for(owner)
    confirm = admin_preview(client)
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as planted:
        planted.write("phone,first_name\n+14155550199,Mallory\n")
    try:
        for name in [Path(planted.name).name, planted.name, f"../../../..{planted.name}"]:
            response = client.post(
                "/admin/customers/customer/process_import/",
                {**confirm, "import_file_name": name, "resource": 0},
                follow=True,
            )
            assert "This upload is not yours or not known" in response.content.decode()
    finally:
        os.remove(planted.name)
    assert not Customer.objects.exists()


def test_the_admin_import_refuses_another_users_upload_and_one_already_imported(
    business, owner, make_member, client_for
):
    confirm = admin_preview(client_for(owner))
    other_owner = client_for(make_member(business, Membership.Role.OWNER, username="second-owner"))
    process = "/admin/customers/customer/process_import/"

    stolen = other_owner.post(process, {**confirm, "resource": 0}, follow=True)
    client_for(owner).post(process, {**confirm, "resource": 0})
    again = client_for(owner).post(process, {**confirm, "resource": 0}, follow=True)

    assert "This upload is not yours or not known" in stolen.content.decode()
    assert "imported already or is gone" in again.content.decode()
    assert Customer.objects.count() == 1


def test_a_strict_check_with_wrong_rows_offers_to_import_the_valid_rows_of_the_same_upload(owner, client_for):
    client = client_for(owner)
    response = upload(client, ONE_BAD)
    job = ImportJob.objects.get()

    page = client.get(response["Location"]).content.decode()
    client.post(f"/customers/import/{job.pk}/confirm/", {"valid_rows_only": "1"})

    assert "Import the 2 valid rows" in page
    job.refresh_from_db()
    assert (job.step, job.status, job.created_count, job.error_count) == ("import", "done", 2, 1)
    assert sorted(Customer.objects.values_list("first_name", flat=True)) == ["Ann", "Bob"]
    assert ImportJob.objects.count() == 1


def test_the_errors_of_one_row_read_as_one_sentence(owner, client_for):
    upload(client_for(owner), "phone,email\n555,not-an-email\n")

    [row] = ImportJob.objects.get().preview
    assert row["message"] == (
        "phone: “555” is not a valid phone number for US; email: “not-an-email” is not an email address."
    )
