"""Pure helpers that import no app code: phones and address keys."""

import re

import phonenumbers
from django.core.exceptions import ValidationError


def normalize_phone(raw, country):
    """E.164 form of a phone number; numbers without +prefix are read in `country`."""
    text = str(raw or "").strip()
    if not text:
        raise ValidationError({"phone": "A phone number is required."})
    try:
        number = phonenumbers.parse(text, (country or "US").upper())
    except phonenumbers.NumberParseException:
        raise ValidationError({"phone": f"“{text}” is not a phone number."}) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            {"phone": f"“{text}” is not a valid phone number for {country or 'its country'}."}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def address_key(address):
    parts = [
        address.get(name) or "" for name in ("street", "street2", "city", "state", "postal_code", "country")
    ]
    return "|".join(" ".join(re.sub(r"[^\w\s]", " ", str(part)).lower().split()) for part in parts)
