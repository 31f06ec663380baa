from django.core.management.base import BaseCommand, CommandError

from customers import services
from customers.choices import ADMIN_SCOPE, API_SCOPES
from customers.models import ApiKey, Business


class Command(BaseCommand):
    help = "Create an API key for a business and print it. The key is shown only this once."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The business's slug")
        parser.add_argument(
            "--name", default="Command line key", help="What the key is for, e.g. the partner app"
        )
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            choices=sorted(API_SCOPES),
            help="What the key may do; repeat for several (default: admin, which is everything).",
        )

    def handle(self, *args, slug, name, scopes, **options):
        business = Business.objects.filter(slug=slug).first()
        if business is None:
            raise CommandError(f"No business with the slug “{slug}”.")
        max_length = ApiKey._meta.get_field("name").max_length
        if not name.strip() or len(name) > max_length:
            raise CommandError(f"Give the key a name of 1 to {max_length} characters.")
        api_key, secret = services.create_api_key(
            business=business, name=name.strip(), scopes=scopes or [ADMIN_SCOPE], actor=None
        )
        self.stdout.write(
            f"API key “{api_key.name}” for {business.name}, scopes {', '.join(api_key.scopes)} "
            "(keep it secret, it is not shown again):"
        )
        # Alone on the last line, so scripts can take it with `tail -n 1`.
        self.stdout.write(secret)
