from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from customers import services
from customers.bulk import tables
from customers.bulk.rows import Outcome
from customers.models import Business

SHOWN_ERRORS = 20


class ProgressBar:
    """Progress on stderr, and the first errors; one line per pass."""

    def __init__(self, stream, total):
        self.stream = stream
        self.total = max(total, 1)
        self.errors = []

    def start(self, step, headers):
        self.step = step
        self.errors = []

    def row(self, outcome, values):
        if outcome.status == Outcome.ERROR and len(self.errors) < SHOWN_ERRORS:
            self.errors.append(f"row {outcome.number}: {outcome.message}")

    def progress(self, step, rows):
        done = min(rows, self.total)
        filled = 30 * done // self.total
        self.stream.write(f"\r{step:<6} [{'#' * filled}{'.' * (30 - filled)}] {done}/{self.total}", ending="")
        if done == self.total:
            self.stream.write("")


class Command(BaseCommand):
    help = (
        "Import a CSV or XLSX file of customers or orders into a business, checked and written as "
        "Customers › Import does. Prints created=N updated=N unchanged=N errors=N."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["customers", "orders"])
        parser.add_argument("file", type=Path)
        parser.add_argument("--business", required=True, help="Slug of the business to import into.")
        parser.add_argument(
            "--valid-only", action="store_true", help="Import the valid rows and skip the others."
        )
        parser.add_argument("--encoding", choices=list(tables.ENCODINGS), default="auto")
        parser.add_argument("--dry-run", action="store_true", help="Check the file and write nothing.")

    def handle(self, *args, kind, file, valid_only, encoding, dry_run, **options):
        business = Business.objects.filter(slug=options["business"]).first()
        if business is None:
            raise CommandError(f"No business with the slug {options['business']!r}.")
        if not file.is_file():
            raise CommandError(f"No file {file}.")

        @contextmanager
        def open_table():
            with file.open("rb") as stream, tables.open_table(stream, encoding=encoding) as table:
                yield table

        try:
            with file.open("rb") as stream:
                bar = ProgressBar(self.stderr, tables.count_rows(stream, encoding=encoding))
            with timezone.override(business.timezone):
                counts, written = services.import_rows(
                    business=business,
                    actor=None,
                    kind=kind,
                    open_table=open_table,
                    valid_only=valid_only,
                    dry_run=dry_run,
                    collector=bar,
                )
        except tables.ImportFileError as error:
            raise CommandError(str(error)) from None
        for error in bar.errors:
            self.stderr.write(error)
        self.stdout.write(str(counts))
        if not written and not dry_run:
            raise CommandError(
                f"{counts.errors} row(s) have errors, so nothing was imported "
                "(--valid-only imports the others)."
            )
