"""The privacy app's handlers of the customers app's domain signals, connected in
PrivacyConfig.ready()."""

from privacy import services
from privacy.demo import seed_demo_requests
from privacy.models import ConsentEvent


def record_checkout_consents(sender, order, customer, opt_ins=None, **kwargs):
    """An order that creates its customer is their sign-up; the opt-in fields sent with an
    order are consents given at checkout."""
    if order.created_customer:
        services.opt_in_at_signup(business=order.business, customer_ids=[customer.pk])
    if opt_ins:
        services.record_opt_ins(
            business=order.business,
            opt_ins={customer.pk: opt_ins},
            source=ConsentEvent.Source.CHECKOUT,
            where=services.checkout_place(order.external_id, order.source),
            reference=f"order {order.external_id}",
        )


def record_batch_consents(sender, business, created_customer_ids, checkouts, **kwargs):
    """A batch of orders, as record_checkout_consents for each of them."""
    services.opt_in_at_signup(business=business, customer_ids=list(created_customer_ids))
    services.record_checkout_opt_ins(business=business, checkouts=checkouts)


def record_imported_consents(sender, business, created_customer_ids=(), opt_ins=None, actor=None, **kwargs):
    """Customers an import creates sign up; the opt-in cells of its rows are consents of source import."""
    services.opt_in_at_signup(business=business, customer_ids=list(created_customer_ids))
    if opt_ins:
        services.record_opt_ins(
            business=business,
            opt_ins=opt_ins,
            source=ConsentEvent.Source.IMPORT,
            where=f"{sender.__name__} import file",  # sent by Customer or by Order
            reference="import",
            actor=actor,
        )


def merge_consents(sender, record, survivor, merged, **kwargs):
    services.merge_preferences(record=record, survivor=survivor, merged=merged)


def give_back_consents(sender, record, **kwargs):
    services.undo_merge_preferences(record=record)


def clear_preferences(sender, business, customer_ids, actor, **kwargs):
    services.clear_anonymized_preferences(business=business, customer_ids=customer_ids, actor=actor)


def seed_demo_preferences(sender, business, actor, rng, **kwargs):
    services.seed_demo_preferences(business=business, actor=actor, rng=rng)


def log_pii_access(sender, actor, api_key, business, customer_ids, what, query, address, **kwargs):
    services.record_access(
        business=business,
        actor=actor,
        api_key=api_key,
        customer_ids=customer_ids,
        what=what,
        query=query,
        address=address,
    )


def seed_demo_privacy(sender, business, actor, rng, **kwargs):
    seed_demo_requests(business=business, support=actor, rng=rng)
