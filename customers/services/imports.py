import csv
import io
import logging
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from customers.bulk import chunks, columns, tables
from customers.bulk.rows import Outcome
from customers.jobs import JobCancelled, claim_job, finish_cancelled, finish_job, report_progress
from customers.models import ImportJob
from customers.normalize import neutralize
from customers.services.jobs import UNEXPECTED_JOB_ERROR
from customers.services.orders import change_imported_order

logger = logging.getLogger(__name__)
PREVIEW_ROWS = 100
PREVIEW_ERRORS = 1000
# What one cell or message of the preview and the rejected rows may hold: longer than any
# column but the items, and short enough that a file quoting one long cell on every row
# (an XLSX shared string) cannot blow up the report.
REPORT_CELL_CHARS = 2000
PREVIEW_CELL_CHARS = 200


class NullCollector:
    def start(self, step, headers):
        pass

    def row(self, outcome, values):
        pass

    def progress(self, step, rows):
        pass


def import_rows(*, business, actor, kind, open_table, valid_only=False, dry_run=False, collector=None):
    """Import a table of customers or orders through the set-based engine (customers.bulk).

    Every row is checked before the first one is written, so a file with a wrong row imports
    nothing unless `valid_only`. `open_table()` gives a context manager of a fresh Table for
    each pass. Without `valid_only` the import is all or nothing in fact: its writes run in
    one transaction, so a failure at any row (the database refusing a value the check let
    through, a crash) leaves nothing behind. With `valid_only` the writes commit chunk by
    chunk, so as not to lock every customer of the file until its end: a crash part-way
    leaves the chunks already written, and running the file again completes it without
    writing anything twice. Returns the counts of the last pass and whether it wrote."""
    collector = collector or NullCollector()

    def run(step, dry_run):
        with open_table() as table:
            collector.start(step, table.headers)
            return chunks.run(
                business=business,
                kind=kind,
                table=table,
                actor=actor,
                dry_run=dry_run,
                change_order=change_imported_order,
                on_row=collector.row,
                on_chunk=lambda counts: collector.progress(step, counts.rows),
            )

    if dry_run:
        return run(ImportJob.Step.CHECK, dry_run=True), False
    if valid_only:
        return run(ImportJob.Step.IMPORT, dry_run=False), True
    counts = run(ImportJob.Step.CHECK, dry_run=True)
    if counts.errors:
        return counts, False
    with transaction.atomic():
        return run(ImportJob.Step.IMPORT, dry_run=False), True


def check_import_file(file, *, kind, encoding):
    """Rows of an uploaded file (counted up to the limit of a file imported at once); a file
    that cannot be imported at all is a ValidationError."""
    try:
        with tables.open_table(file, encoding=encoding) as table:
            columns.map_headers(table.headers, kind)
        return tables.count_rows(file, encoding=encoding, stop_after=settings.IMPORT_SYNC_MAX_ROWS)
    except tables.ImportFileError as error:
        raise ValidationError({"file": str(error)}) from None


def start_import(*, business, actor, kind, upload, encoding="auto", valid_only=False):
    """Keep the uploaded file and check it (the dry run): at once when it is small, else in
    the background. Returns the ImportJob, whose page shows the outcome."""
    rows = check_import_file(upload, kind=kind, encoding=encoding)
    job = ImportJob(
        business=business,
        actor=actor,
        kind=kind,
        original_name=Path(upload.name).name[:255],
        encoding=encoding,
        valid_only=valid_only,
    )
    if rows <= settings.IMPORT_SYNC_MAX_ROWS:
        job.total_rows = rows
    extension = ".xlsx" if upload.name.lower().endswith(".xlsx") else ".csv"
    # The stored name is ours: the user's file name is only shown.
    job.file.save(f"{uuid.uuid4().hex}{extension}", upload, save=False)
    job.save()
    run_or_queue_import(job)
    return job


def run_or_queue_import(job):
    if job.total_rows is not None and job.total_rows <= settings.IMPORT_SYNC_MAX_ROWS:
        run_import_job(job.pk)
    else:
        transaction.on_commit(lambda: async_task("customers.tasks.run_import_job", job.pk, group="imports"))


def restart_import(job):
    """An import's retry: its upload must still be there; it runs once the retry commits."""
    check_upload_kept(job)
    transaction.on_commit(lambda: run_or_queue_import(job))


def confirm_import(*, job, actor, valid_rows_only=False):
    """Import a checked file (the user confirmed the dry run). With `valid_rows_only` the
    rows the check found wrong are skipped, from the file already uploaded."""
    check_upload_kept(job)
    confirmable = ImportJob.objects.filter(pk=job.pk, step=ImportJob.Step.CHECK, status=ImportJob.Status.DONE)
    queued = {
        "step": ImportJob.Step.IMPORT,
        "status": ImportJob.Status.QUEUED,
        "rows_done": 0,
        "heartbeat_at": timezone.now(),
        "finished_at": None,
    }
    if valid_rows_only:
        queued["valid_only"] = True
    else:
        confirmable = confirmable.filter(Q(error_count=0) | Q(valid_only=True))
    confirmed = confirmable.update(**queued)
    if not confirmed:
        raise ValidationError("This file is not ready to be imported.")
    job.refresh_from_db()
    run_or_queue_import(job)
    return job


def check_upload_kept(job):
    if not job.file:
        raise ValidationError(
            f"The uploaded file was deleted: uploads are kept {settings.IMPORT_FILE_DAYS} days. "
            "Upload it again."
        )


@contextmanager
def job_table(job):
    with job.file.open("rb") as file, tables.open_table(file, encoding=job.encoding) as table:
        yield table


class ImportJobCollector:
    """Keeps a job's progress, its preview (first rows and every error) and the CSV of its
    rejected rows (with an `error` column) as the import runs."""

    def __init__(self, job):
        self.job = job
        self.passes = 2 if job.step == ImportJob.Step.IMPORT and not job.valid_only else 1
        self.pass_number = -1
        self.report = None
        # Rows written inside a transaction opened by the import itself (all or nothing) go
        # with it when a cancel stops it; rows of chunks that committed stay.
        self.atomic_depth = len(connection.atomic_blocks)
        self.writes_roll_back = False
        # An all-or-nothing import holds one transaction to its end. Its progress and heartbeat
        # go through a connection of their own on PostgreSQL, so the job page and the stale-job
        # sweeper see them and the job's row is never locked by the import. SQLite has one
        # writer at a time (a second connection would wait for the import): there they go in
        # the import's transaction and show when it commits. Inside a caller's transaction
        # (an import run at once by a request) the job's row may be locked by that
        # transaction already, so they go in it as well.
        self.progress_apart = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.progress_connection = None

    def start(self, step, headers):
        self.pass_number += 1
        self.preview, self.errors = [], 0
        self.ignored = columns.map_headers(headers, self.job.kind)[1]
        self.report = tempfile.TemporaryFile()
        self.report_text = io.TextIOWrapper(self.report, encoding="utf-8-sig", newline="")
        self.report_writer = csv.writer(self.report_text)
        self.report_writer.writerow([*(tables.cell_text(header) for header in headers), "error"])
        self.unlisted = 0

    def row(self, outcome, values):
        is_error = outcome.status == Outcome.ERROR
        if len(self.preview) < PREVIEW_ROWS or (is_error and self.errors < PREVIEW_ERRORS):
            self.preview.append(
                {
                    "row": outcome.number,
                    "status": outcome.status,
                    "key": shortened(outcome.key, PREVIEW_CELL_CHARS),
                    "message": shortened(outcome.message, REPORT_CELL_CHARS),
                }
            )
        if is_error:
            self.errors += 1
            # At most the size of a file one may upload, so that it can be fixed and uploaded again.
            if self.report.tell() > settings.IMPORT_MAX_FILE_BYTES:
                self.unlisted += 1
                return
            cells = [neutralize(shortened(tables.cell_text(value), REPORT_CELL_CHARS)) for value in values]
            error = neutralize(f"Row {outcome.number}: {shortened(outcome.message, REPORT_CELL_CHARS)}")
            self.report_writer.writerow([*cells, error])
            self.report_text.flush()

    def progress(self, step, rows):
        total = self.job.total_rows or rows
        done = (self.pass_number * total + rows) // self.passes
        self.writes_roll_back = len(connection.atomic_blocks) > self.atomic_depth
        apart = None
        if self.progress_apart and connection.in_atomic_block:
            if self.progress_connection is None:
                self.progress_connection = connections.create_connection(DEFAULT_DB_ALIAS)
            apart = self.progress_connection
        report_progress(self.job, min(done, total), connection=apart)

    def close(self):
        if self.progress_connection is not None:
            self.progress_connection.close()

    def save(self, job):
        job.preview, job.ignored_columns = self.preview, self.ignored
        if self.errors:
            if self.unlisted:
                self.report_writer.writerow([f"… and {self.unlisted:,} more rows with errors, unlisted."])
            self.report_text.flush()
            self.report.seek(0)
            job.error_report.save(f"{uuid.uuid4().hex}-rejected.csv", File(self.report), save=False)
        else:
            job.error_report = ""
        self.report_text.close()


def shortened(text, length):
    return text if len(text) <= length else text[: length - 1] + "…"


def run_import_job(job_id):
    """Check or import the job's file, as its step says. Safe to call twice."""
    if not claim_job(job_id):
        return None
    job = ImportJob.objects.select_related("business", "actor").get(pk=job_id)
    with timezone.override(job.business.timezone):
        try:
            with job.file.open("rb") as file:
                job.total_rows = tables.count_rows(file, encoding=job.encoding)
            ImportJob.objects.filter(pk=job.pk).update(total_rows=job.total_rows)
            collector = ImportJobCollector(job)
            try:
                counts, written = import_rows(
                    business=job.business,
                    actor=job.actor,
                    kind=job.kind,
                    open_table=lambda: job_table(job),
                    valid_only=job.valid_only,
                    dry_run=job.step == ImportJob.Step.CHECK,
                    collector=collector,
                )
            finally:
                collector.close()
        except tables.ImportFileError as error:
            return finish_job(job, failure=str(error))
        except JobCancelled:
            return finish_cancelled(job, import_cancelled_outcome(job, collector))
        except Exception:
            logger.exception("Import job %s failed", job_id)
            return finish_job(job, failure=UNEXPECTED_JOB_ERROR)
    collector.save(job)
    job.created_count, job.updated_count = counts.created, counts.updated
    job.unchanged_count, job.error_count = counts.unchanged, counts.errors
    job.rows_done = job.total_rows
    failure = ""
    if job.step == ImportJob.Step.IMPORT and not written:
        failure = (
            f"{counts.errors} row(s) have errors, so nothing was imported. "
            "Fix them and upload the file again."
        )
    return finish_job(job, failure=failure)


def import_cancelled_outcome(job, collector):
    checking = job.step == ImportJob.Step.CHECK or collector.pass_number < collector.passes - 1
    if checking or collector.writes_roll_back:
        return "Nothing was imported."
    return "The rows before it stopped were imported; retry to import the rest."
