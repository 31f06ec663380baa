from django.core.exceptions import ValidationError
from django.db import transaction

from customers.models import ADDRESS_LIMIT_EXCEEDED, Activity, Dropoff
from customers.normalize import address_key
from customers.services.activity import log_activity
from customers.services.identity import lock

ADDRESS_FIELDS = ("street", "street2", "city", "state", "postal_code", "country", "lat", "lng")


def address_values(address):
    """The columns of an address, blanks as the model stores them and the country upper case."""
    values = {name: address.get(name) for name in ADDRESS_FIELDS}
    for name in ADDRESS_FIELDS:
        if name not in ("lat", "lng") and values[name] is None:
            values[name] = ""
    values["country"] = values["country"].upper()
    return values


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
    default_exists = any(dropoff.kind == kind and dropoff.is_default for dropoff in dropoffs)
    return Dropoff.objects.create(
        business_id=customer.business_id,
        customer=customer,
        kind=kind,
        address_key=key,
        is_default=not default_exists,
        **address_values(address),
    )


@transaction.atomic
def add_address(*, customer, address, kind=Dropoff.Kind.SHIPPING, is_default=False, actor):
    """An address for the customer's address book: (dropoff, created). The same address of
    the same kind again is the dropoff already there; an 11th is ADDRESS_LIMIT_EXCEEDED."""
    customer = lock(customer)
    existing = Dropoff.objects.filter(customer=customer, kind=kind, address_key=address_key(address)).first()
    dropoff = existing or dropoff_for(customer, address, kind)
    if is_default and not dropoff.is_default:
        make_default(dropoff)
    if existing is None:
        log_activity(
            customer, Activity.Kind.ADDRESS_ADDED, actor, dropoff_id=dropoff.pk, address=str(dropoff)
        )
    return dropoff, existing is None


@transaction.atomic
def change_address(*, dropoff, address, kind, is_default=None, actor):
    """Replace the address of a dropoff (orders sent there now show the new text);
    `is_default` None keeps the flag. Two dropoffs of a customer never hold the same address
    of the same kind."""
    customer = lock(dropoff.customer)
    dropoff = Dropoff.objects.select_for_update().get(pk=dropoff.pk)
    key = address_key(address)
    taken = Dropoff.objects.filter(customer=customer, kind=kind, address_key=key).exclude(pk=dropoff.pk)
    if taken.exists():
        raise ValidationError({"street": "The customer already has this address."})
    old = str(dropoff)
    # A default moved to another kind is not that kind's default unless asked.
    if dropoff.kind != kind or is_default is False:
        dropoff.is_default = False
    for name, value in address_values(address).items():
        setattr(dropoff, name, value)
    dropoff.kind, dropoff.address_key = kind, key
    dropoff.save()
    if is_default and not dropoff.is_default:
        make_default(dropoff)
    log_activity(
        customer, Activity.Kind.ADDRESS_CHANGED, actor, dropoff_id=dropoff.pk, old=old, new=str(dropoff)
    )
    return dropoff


@transaction.atomic
def remove_address(*, dropoff, actor):
    """Delete a dropoff from the address book; the orders sent there keep no address."""
    customer = lock(dropoff.customer)
    log_activity(customer, Activity.Kind.ADDRESS_REMOVED, actor, dropoff_id=dropoff.pk, address=str(dropoff))
    dropoff.delete()


def make_default(dropoff):
    """The dropoff becomes its kind's default (one default per kind, a constraint)."""
    Dropoff.objects.filter(customer_id=dropoff.customer_id, kind=dropoff.kind, is_default=True).update(
        is_default=False
    )
    dropoff.is_default = True
    dropoff.save(update_fields=["is_default"])
