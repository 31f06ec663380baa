from django.db import IntegrityError, transaction

from customers.models import Activity, Customer, CustomerAccount, searchable
from customers.normalize import normalize_phone
from customers.queries import find_customer_by_phone, lock_phones
from customers.services.activity import log_activity
from customers.services.webhooks import emit_event


def update_search_text(customer):
    account_emails = customer.accounts.exclude(email="").values_list("email", flat=True)
    customer.search_text = searchable(
        customer.first_name, customer.last_name, customer.preferred_name, customer.email, *account_emails
    )
    Customer.objects.filter(pk=customer.pk).update(search_text=customer.search_text)


def get_or_create_customer(*, business, phone, actor=None, for_update=False, **contact):
    """The customer for (business, phone), created if new. Safe when two requests bring
    the same new phone at once: the unique constraint lets one insert win. `for_update`
    returns it locked; a customer this call created is locked by its insert already."""
    customer, created = find_or_insert_customer(business, phone, for_update, contact)
    if created:
        log_activity(customer, Activity.Kind.CREATED, actor, phone=customer.phone)
        emit_event(
            business_id=business.pk,
            type="customers.customer.created",
            data={"customer_ids": [customer.pk]},
            customer_id=customer.pk,
        )
    return customer, created


def find_or_insert_customer(business, phone, for_update, contact):
    """get_or_create_customer without its Activity, for callers that write theirs in bulk."""
    e164 = normalize_phone(phone, business.default_country)
    customer = find_customer_by_phone(business, e164, for_update)
    if customer is not None:
        return customer, False
    # A batch inserting this phone now holds its lock: waiting for it makes the insert
    # below find its customer (and the addresses it added) instead of racing it.
    lock_phones(business, [e164])
    contact = {key: value for key, value in contact.items() if value not in (None, "")}
    try:
        with transaction.atomic():
            customer = Customer.objects.create(
                business=business,
                phone=e164,
                search_text=searchable(
                    contact.get("first_name"),
                    contact.get("last_name"),
                    contact.get("preferred_name"),
                    contact.get("email"),
                ),
                **contact,
            )
    except IntegrityError:
        winner = Customer.objects.live().filter(business=business, phone=e164)
        return (winner.select_for_update() if for_update else winner).get(), False
    return customer, True


@transaction.atomic
def link_account(*, business, phone, provider, email="", external_id="", actor=None):
    """Attach a storefront account to the person with that phone (creating the customer)."""
    customer, _ = get_or_create_customer(business=business, phone=phone, actor=actor, email=email)
    accounts = CustomerAccount.objects.filter(business=business, provider=provider)
    if external_id:
        account = accounts.filter(external_id=external_id).first()
    else:
        # A guest checkout has no external id: the same email at the same provider is one account.
        account = accounts.filter(customer=customer, external_id="", email__iexact=email).first()
    if account is None:
        account = CustomerAccount.objects.create(
            business=business,
            customer=customer,
            provider=provider,
            email=email,
            external_id=external_id,
            phone=str(phone),
        )
    else:
        previous_owner = account.customer
        account.customer, account.email, account.phone = customer, email, str(phone)
        account.save(update_fields=["customer", "email", "phone"])
        if previous_owner.pk != customer.pk:
            update_search_text(previous_owner)
    update_search_text(customer)
    log_activity(customer, Activity.Kind.ACCOUNT_LINKED, actor, provider=provider, account_id=account.pk)
    return account


def lock(customer):
    return Customer.objects.select_for_update().get(pk=customer.pk)
