"""The audience of the whole bench business (a segment of every customer): the CSV download
streamed to its end, and one page of the API, each beside hand-written SQL doing the same
filtering."""

from django.db import connection
from django.utils import timezone

from customers.benchmarks.harness import Figure
from customers.models import Customer
from privacy import queries, services
from privacy.models import CommunicationPreference

# The same customers as queries.audience(channel="sms", purpose="promotions").
RAW_AUDIENCE = """
SELECT c.id, c.phone, c.timezone, p.timezone, p.quiet_hours_start, p.quiet_hours_end
FROM customers_customer c JOIN privacy_communicationpreference p ON p.customer_id = c.id
WHERE c.business_id = %s AND c.deleted_at IS NULL AND c.anonymized_at IS NULL AND NOT c.is_blacklisted
  AND p.sms_marketing AND p.promotional_offers
ORDER BY c.id
"""


def figures(context):
    business = context.business
    if not CommunicationPreference.objects.filter(business=business).exists():
        services.seed_demo_preferences(business=business, actor=None, rng=context.rng)
    customers = Customer.objects.filter(business=business)
    options = {"channel": "sms", "purpose": "promotions", "business": business}
    size = queries.audience(customers, channel="sms", purpose="promotions").count()

    def csv(run):
        for _ in queries.write_audience_csv(customers, now=timezone.now(), **options):
            pass

    def raw_all(run):
        with connection.cursor() as cursor:
            cursor.execute(RAW_AUDIENCE, [business.pk])
            cursor.fetchall()

    yield Figure("privacy.audience_csv", csv, raw_all, runs=3, warmup=1, unit="customers", per_run=size)

    def page(run):
        queries.audience_page(customers, now=timezone.now(), **options)

    def raw_page(run):
        with connection.cursor() as cursor:
            cursor.execute(RAW_AUDIENCE + f" LIMIT {queries.AUDIENCE_PAGE + 1}", [business.pk])
            cursor.fetchall()

    yield Figure("privacy.audience_page", page, raw_page, count_queries=True)
