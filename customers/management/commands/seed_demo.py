import random
import time

from django.core.management.base import BaseCommand, CommandError

from customers import demo
from customers.models import Customer, Membership
from customers.signals import demo_seeded


class Command(BaseCommand):
    help = (
        "Create or extend a business with realistic generated customers and orders (bulk inserts, "
        "fast enough for a million customers) and staff users SLUG-owner, SLUG-support and "
        "SLUG-compliance."
    )

    def add_arguments(self, parser):
        parser.add_argument("--business", default="demo", help="Business slug (default: demo).")
        parser.add_argument("--customers", type=int, default=2000, help="Customers to add (default: 2000).")
        parser.add_argument("--orders", type=int, help="Orders to add (default: 3 per customer).")
        parser.add_argument("--password", default="demo", help="Password of the staff users (default: demo).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default: 42).")
        parser.add_argument(
            "--skip-if-exists", action="store_true", help="Do nothing if the business already has customers."
        )

    def handle(self, *args, **options):
        slug, count = options["business"], options["customers"]
        orders = options["orders"] if options["orders"] is not None else 3 * count
        if count < 0 or orders < 0:
            raise CommandError("--customers and --orders cannot be negative.")
        if options["skip_if_exists"] and Customer.objects.filter(business__slug=slug).exists():
            self.stdout.write(f"Business “{slug}” already has customers; nothing to do.")
            self.print_logins(slug, "as set when it was seeded")
            return
        business = demo.get_or_create_business(slug)
        if business.default_country not in demo.SUPPORTED_COUNTRIES:
            raise CommandError(f"seed_demo generates US data; {business} uses {business.default_country}.")
        users = demo.ensure_staff(business, options["password"])
        self.stdout.write(f"Seeding {count} customers and {orders} orders into {business} …")
        started = time.perf_counter()
        last_report = [started]

        def progress(done, total):
            now = time.perf_counter()
            if now - last_report[0] >= 5 or done == total:
                last_report[0] = now
                self.stdout.write(f"customers {done}/{total} ({now - started:.0f} s)")

        summary = demo.generate(
            business,
            customers=count,
            orders=orders,
            rng=random.Random(options["seed"]),
            actor=users["support"],
            progress=progress,
        )
        rng = random.Random(options["seed"])
        demo_seeded.send(sender=Customer, business=business, actor=users["support"], rng=rng)
        rows = ", ".join(f"{number} {name}" for name, number in summary.rows.items())
        self.stdout.write(self.style.SUCCESS(f"Seeded in {summary.seconds:.1f} s: {rows or 'nothing'}."))
        self.print_logins(slug, options["password"])

    def print_logins(self, slug, password):
        self.stdout.write("Logins:")
        for role in Membership.Role:
            self.stdout.write(f"  {slug}-{role.value:<11} password: {password}   ({role.label})")
