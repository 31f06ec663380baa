from customers.models import Customer
from privacy.models import AccessLog


def record_access(*, business, actor, api_key=None, customer_ids, what, query="", address=None):
    """One INSERT (the profile pays no more), in the caller's transaction if any. A platform
    superuser in the admin works in no business: the entry goes to the customers' own."""
    customer_ids = sorted(set(customer_ids))
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
