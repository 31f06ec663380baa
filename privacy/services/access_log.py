import logging

from customers import replicas
from customers.models import Customer
from privacy.models import AccessLog

logger = logging.getLogger(__name__)


def record_access(*, business, actor, api_key=None, customer_ids, what, query="", address=None):
    """One INSERT (the profile pays no more), in the caller's transaction if any. A platform
    superuser in the admin works in no business: the entry goes to the customers' own."""
    customer_ids = sorted(set(customer_ids))
    if replicas.writes_paused():
        # Degraded mode: the pages still show data, and the application log keeps the entry
        # that the table cannot take.
        logger.warning(
            "PII access while writes are paused: business=%s actor=%s api_key=%s what=%s customers=%s "
            "query=%r address=%s",
            getattr(business, "pk", None),
            getattr(actor, "pk", None),
            getattr(api_key, "pk", None),
            what,
            AccessLog.ids_text(customer_ids),
            query[:2000],
            address,
        )
        return None
    if business is None:
        business_id = (
            Customer.objects.filter(pk__in=customer_ids[:1]).values_list("business_id", flat=True).first()
        )
        if business_id is None:
            return None
    else:
        business_id = business.pk
    return AccessLog.objects.create(
        business_id=business_id,
        actor=actor,
        api_key=api_key,
        customer_ids=AccessLog.ids_text(customer_ids),
        customer_count=len(customer_ids),
        what=what,
        query=query[:2000],
        remote_addr=address,
    )
