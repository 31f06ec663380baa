from django.core.exceptions import ValidationError
from django.db import transaction

from customers.models import Activity, BlacklistEntry
from customers.services.activity import log_activity
from customers.services.identity import lock


@transaction.atomic
def blacklist_customer(*, customer, reason, note="", actor):
    return _set_blacklisted(customer, True, reason, note, actor)


@transaction.atomic
def unblacklist_customer(*, customer, reason, note="", actor):
    return _set_blacklisted(customer, False, reason, note, actor)


def _set_blacklisted(customer, blacklisted, reason, note, actor):
    reasons = BlacklistEntry.Reason if blacklisted else BlacklistEntry.UnblacklistReason
    if reason not in reasons.values:
        raise ValidationError({"reason": "Choose a reason."})
    customer = lock(customer)
    if customer.is_blacklisted == blacklisted:
        state = "already blacklisted" if blacklisted else "not blacklisted"
        raise ValidationError(f"{customer} is {state}.")
    customer.is_blacklisted = blacklisted
    customer.save(update_fields=["is_blacklisted", "updated_at"])
    action = BlacklistEntry.Action.BLACKLISTED if blacklisted else BlacklistEntry.Action.UNBLACKLISTED
    entry = BlacklistEntry.objects.create(
        business_id=customer.business_id,
        customer=customer,
        action=action,
        reason=reason,
        note=note,
        actor=actor,
    )
    kind = Activity.Kind.BLACKLISTED if blacklisted else Activity.Kind.UNBLACKLISTED
    log_activity(customer, kind, actor, reason=reason, note=note)
    return entry


def blacklist_many(*, customers, reason, note="", actor):
    """Blacklist each customer not yet blacklisted; returns how many changed."""
    changed = 0
    for customer in customers:
        if not customer.is_blacklisted:
            blacklist_customer(customer=customer, reason=reason, note=note, actor=actor)
            changed += 1
    return changed


def unblacklist_many(*, customers, reason, note="", actor):
    changed = 0
    for customer in customers:
        if customer.is_blacklisted:
            unblacklist_customer(customer=customer, reason=reason, note=note, actor=actor)
            changed += 1
    return changed
