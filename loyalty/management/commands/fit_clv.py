import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from customers.models import Business
from loyalty import queries, services


class Command(BaseCommand):
    help = (
        "Fit a business's customer lifetime value model (BG/NBD and Gamma-Gamma) on its completed orders "
        "up to --as-of, store every customer's value, and print the parameters as JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The business's slug.")
        parser.add_argument(
            "--as-of", type=as_of_date, help="YYYY-MM-DD: count orders up to this day (default: today)."
        )

    def handle(self, *args, slug, as_of, **options):
        business = Business.objects.filter(slug=slug).first()
        if business is None:
            raise CommandError(f"No business with the slug “{slug}”.")
        fit = services.fit_lifetime_values(business=business, actor=None, as_of=as_of)
        self.stdout.write(json.dumps(queries.fit_json(fit)))


def as_of_date(value):
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of “{value}” is not a date as YYYY-MM-DD.") from None
