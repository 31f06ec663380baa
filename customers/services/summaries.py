from django.db import transaction

from customers import summaries


@transaction.atomic
def reconcile_dashboard_summaries(*, business):
    """Rebuild the business's recent days (and their months' cohort cells) from the orders;
    returns the differences found, which are logged (they mean an upkeep was missed)."""
    return summaries.reconcile_recent_days(business)


@transaction.atomic
def rebuild_dashboard_summaries(*, business):
    """Rebuild every day and cohort of the business from the orders (after bulk loads)."""
    return summaries.rebuild(business)
