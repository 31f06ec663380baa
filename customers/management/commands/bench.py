import importlib
import importlib.util
import random
import time
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import override_settings

from customers import demo
from customers.benchmarks import harness
from customers.models import (
    Activity,
    BlacklistEntry,
    Customer,
    CustomerAccount,
    Dropoff,
    Note,
    Order,
    OrderItem,
    Tag,
)

BUSINESS_SLUG = "bench"
PLAIN_STATIC_STORAGE = "django.contrib.staticfiles.storage.StaticFilesStorage"
CUSTOMER_TABLES = [
    model._meta.db_table
    for model in (
        Customer,
        CustomerAccount,
        Dropoff,
        Order,
        OrderItem,
        BlacklistEntry,
        Note,
        Tag,
        Activity,
        Customer.tags.through,
    )
]


class Command(BaseCommand):
    help = (
        "Performance benchmarks on PostgreSQL: seeds the business “bench” up to --customers, then prints "
        "one line per figure (our p50/p95 against hand-written SQL for the same work)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--customers", type=int, default=100_000, help="Customers to bench with (default 100000)."
        )
        parser.add_argument("--repeat", type=int, default=50, help="Timed runs per figure (default 50).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed for seeding and sampling.")
        parser.add_argument(
            "--only",
            default="",
            help="Comma-separated name prefixes of the figures to run, e.g. search,list,api (default: all).",
        )
        parser.add_argument(
            "--duration",
            type=int,
            default=10,
            help="Seconds of load per run of the http figures (default 10).",
        )
        parser.add_argument(
            "--workers",
            default="2,4",
            help="gunicorn workers of the http figures, comma-separated (default 2,4).",
        )
        parser.add_argument(
            "--clients",
            default="8,32",
            help="Concurrent clients of the http figures, comma-separated (default 8,32).",
        )

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench needs PostgreSQL: set DATABASE_URL=postgres://...")
        if options["repeat"] < 1:
            raise CommandError("--repeat must be at least 1.")
        if options["duration"] < 1:
            raise CommandError("--duration must be at least 1 (second).")
        workers, clients = counts(options, "workers"), counts(options, "clients")
        rng = random.Random(options["seed"])
        business = demo.get_or_create_business(BUSINESS_SLUG)
        users = demo.ensure_staff(business, password=None)
        self.seed(business, users, options["customers"], rng)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {', '.join(CUSTOMER_TABLES)}")
        self.stdout.write(f"VACUUM ANALYZE: {time.perf_counter() - started:.1f} s")

        context = harness.BenchContext(
            business=business,
            users=users,
            customers=options["customers"],
            repeat=options["repeat"],
            rng=rng,
            only=tuple(prefix.strip() for prefix in options["only"].split(",") if prefix.strip()),
            duration=options["duration"],
            workers=workers,
            clients=clients,
        )
        customers = Customer.objects.filter(business=business).count()
        self.stdout.write(
            f"{customers} customers, {options['repeat']} runs per figure; ratio = our p50 / raw SQL p50"
        )
        failures = 0
        # Measured as in production: no query logging (DEBUG adds it to every query). Plain
        # static storage, so bench runs without collectstatic: the manifest lookup it skips is
        # a dictionary lookup.
        storages = {**settings.STORAGES, "staticfiles": {"BACKEND": PLAIN_STATIC_STORAGE}}
        with override_settings(DEBUG=False, STORAGES=storages):
            for module in benchmark_modules():
                failures += harness.run_figures(
                    module.figures(context), context.repeat, self.stdout.write, wanted=context.wants
                )
        if failures:
            raise CommandError(f"{failures} figure(s) could not be measured.")

    def seed(self, business, users, wanted, rng):
        have = Customer.objects.filter(business=business).count()
        if have >= wanted:
            return
        missing = wanted - have
        self.stdout.write(f"Seeding {missing} customers into {business} …")
        started = time.perf_counter()

        def progress(done, total):
            if done % 50_000 < demo.CHUNK_SIZE or done == total:
                self.stdout.write(f"customers {done}/{total} ({time.perf_counter() - started:.0f} s)")

        summary = demo.generate(
            business,
            customers=missing,
            # Five orders per customer: the dashboard's target is 5,000,000 orders at 1,000,000 customers.
            orders=5 * missing,
            rng=rng,
            actor=users["support"],
            progress=progress,
        )
        self.stdout.write(
            f"seed: {summary.customers} customers, {summary.orders} orders in {summary.seconds:.1f} s"
        )


def counts(options, name):
    try:
        values = tuple(int(value) for value in options[name].split(","))
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise CommandError(f"--{name} takes whole numbers of at least 1, separated by commas.")
    return values


def benchmark_modules():
    """`<app>.benchmarks` of every app of this project that has one."""
    base = Path(settings.BASE_DIR).resolve()
    for app_config in apps.get_app_configs():
        if not Path(app_config.path).resolve().is_relative_to(base):
            continue
        name = f"{app_config.name}.benchmarks"
        if importlib.util.find_spec(name) is not None:
            yield importlib.import_module(name)
