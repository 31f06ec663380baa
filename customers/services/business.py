"""The business's own settings, as its owner edits them."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import transaction

from customers import choices
from customers.models import Business
from customers.services.audit import log_audit


@transaction.atomic
def update_business_settings(
    *, business, actor, name, default_country, currency, timezone, api_requests_per_minute=None
):
    """Change what the owner may set of their business (the API rate stays as it is unless
    given). Returns the changes as {field: [old, new]}. The default country reads phones typed
    from now on; stored phones and orders keep theirs."""
    values = {
        "name": " ".join(name.split()),
        "default_country": default_country.strip().upper(),
        "currency": currency.strip().upper(),
        "timezone": timezone.strip(),
        "api_requests_per_minute": api_requests_per_minute or business.api_requests_per_minute,
    }
    errors = {}
    if not values["name"]:
        errors["name"] = "A business needs a name."
    if values["default_country"] not in phonenumbers.SUPPORTED_REGIONS:
        errors["default_country"] = "Choose a country from the list."
    if not choices.CURRENCY_CODE.fullmatch(values["currency"]):
        errors["currency"] = "A currency is three letters (ISO 4217), e.g. USD."
    if values["timezone"] not in choices.TIME_ZONE_NAMES:
        errors["timezone"] = "Choose a time zone from the list."
    if not 1 <= values["api_requests_per_minute"] <= choices.MAX_API_REQUESTS_PER_MINUTE:
        errors["api_requests_per_minute"] = (
            f"Allow from 1 to {choices.MAX_API_REQUESTS_PER_MINUTE:,} API calls a minute."
        )
    if errors:
        raise ValidationError(errors)
    business = Business.objects.select_for_update().get(pk=business.pk)
    changes = {
        field: [getattr(business, field), value]
        for field, value in values.items()
        if getattr(business, field) != value
    }
    for field, (_, value) in changes.items():
        setattr(business, field, value)
    if changes:
        business.save(update_fields=list(changes))
        log_audit(business=business, actor=actor, action="business.settings_changed", changes=changes)
    return changes
