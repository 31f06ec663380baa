from django.core.exceptions import ValidationError
from django.db import transaction

from customers.models import ADDRESS_LIMIT_EXCEEDED, Dropoff
from customers.normalize import address_key
from customers.services.identity import lock


def dropoff_for(customer, address, kind=Dropoff.Kind.SHIPPING, new_customer=False):
    """The customer's dropoff at this address, created if new (the customer row is locked).
    A customer has at most a few dropoffs: one query reads them all, to find the address,
    count them and see whether the kind has a default; a customer created in this
    transaction has none to read."""
    key = address_key(address)
    dropoffs = [] if new_customer else list(Dropoff.objects.filter(customer=customer).order_by())
    for dropoff in dropoffs:
        if dropoff.kind == kind and dropoff.address_key == key:
            return dropoff
    if len(dropoffs) >= Dropoff.MAX_PER_CUSTOMER:
        raise ValidationError({"address": ADDRESS_LIMIT_EXCEEDED})
    fields = ("street", "street2", "city", "state", "postal_code", "country", "lat", "lng")
    values = {name: address[name] for name in fields if address.get(name) not in (None, "")}
    values["country"] = values.get("country", "").upper()
    default_exists = any(dropoff.kind == kind and dropoff.is_default for dropoff in dropoffs)
    return Dropoff.objects.create(
        business_id=customer.business_id,
        customer=customer,
        kind=kind,
        address_key=key,
        is_default=not default_exists,
        **values,
    )


@transaction.atomic
def add_dropoff(*, customer, address, kind=Dropoff.Kind.SHIPPING, actor):
    customer = lock(customer)
    return dropoff_for(customer, address, kind)
