"""Pure helpers that import no app code: phones, address keys, spreadsheet formulas."""

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


# Spreadsheet formulas in exported cells ---------------------------------------------------

# A spreadsheet runs a cell starting with one of these as a formula (OWASP ASVS 5.0, 1.2.10).
FORMULA_PREFIXES = "=+-@\t\r\0"
# A spreadsheet in a semicolon (or comma) locale splits a cell it reads unquoted on these,
# so every fragment between them is a cell of its own there.
CELL_SEPARATORS = re.compile(r"([;,])")
# What a spreadsheet reads as a plain number (a phone such as +12159478995, a negative
# amount), never as a formula.
PLAIN_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?", re.ASCII)
# A fragment the exports quoted: quotes, then a formula's first character.
QUOTED_FORMULA = re.compile(r"'+[=+\-@\t\r\0]")


def is_formula(fragment):
    """Whether a spreadsheet would run this text as a formula. A quote before such a text
    counts as well: quoted once more, it imports back as it was."""
    start = fragment.lstrip("'")
    return bool(start) and start[0] in FORMULA_PREFIXES and not PLAIN_NUMBER.fullmatch(fragment)


def neutralize(value):
    """Text a spreadsheet would run as a formula, with a quote before each fragment that
    would be one ("=1+1" -> "'=1+1", "x;=cmd" -> "x;'=cmd"); plain numbers ("+1215...",
    "-2.50"), other text, numbers, dates, booleans and empty cells are left as they are.
    `restore_formulas` undoes it."""
    if not isinstance(value, str) or not value:
        return value
    if value[0] not in FORMULA_PREFIXES and value[0] != "'" and ";" not in value and "," not in value:
        return value
    return "".join(
        "'" + fragment if is_formula(fragment) else fragment for fragment in CELL_SEPARATORS.split(value)
    )


def restore_formulas(text):
    """`neutralize` undone: the quote before each fragment that would be a formula goes
    (also the one older exports put before a phone's +)."""
    if "'" not in text:
        return text
    fragments = CELL_SEPARATORS.split(text)
    return "".join(fragment[1:] if QUOTED_FORMULA.match(fragment) else fragment for fragment in fragments)
