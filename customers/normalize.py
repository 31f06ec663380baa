"""Pure helpers that import no app code: phones, address keys, spreadsheet formulas, and
checks of single values against what their columns can hold, shared by the API, the
import, the HTML forms and the admin, so that none of them lets through a value the
database refuses (a 500 halfway through a request or an import) or stores one that later
breaks the pages. Callers pass the limits of their model fields.

The accepted windows:
- an order's time lies between 1970-01-01 and a day from now (old order history imports;
  a later time is a wrong clock or a typo), with a UTC offset of at most ±15:59, as
  PostgreSQL stores them;
- a date of birth lies between 1900-01-01 and today;
- numbers are written with the digits 0-9 and fit their column's digits and decimals.
"""

import datetime as dt
import functools
import re
import zoneinfo
from decimal import Decimal, DecimalException

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils import timezone

EARLIEST_TIME = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# The CHECK constraints of the stored order times: every page can show such a time in any
# time zone. The window of new orders (up to a day from now) lies well inside.
LATEST_STORED_TIME = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
ORDER_TIME_LEEWAY = dt.timedelta(days=1)
MAX_UTC_OFFSET = dt.timedelta(hours=15, minutes=59)
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)

NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,6})?", re.ASCII)
WHOLE_NUMBER = re.compile(r"[+-]?\d+", re.ASCII)


def validate_text(value):
    """Text PostgreSQL can store: no NUL character, no lone surrogate (a JSON "\\ud800")."""
    if "\x00" in value:
        raise ValidationError("Remove the NUL character.", code="null_characters_not_allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            "Remove the character that is not valid Unicode (a lone surrogate such as \\ud800).",
            code="invalid_unicode",
        ) from None


def printable(text):
    """`text` as a message may quote it: without the NUL characters and lone surrogates no
    column stores (they become nothing and "?")."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def parse_decimal(value):
    """A number from JSON (an int or a float) or text written with the digits 0-9."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValidationError("Enter a number.", code="invalid")
    text = str(value).strip()
    if not NUMBER.fullmatch(text):
        raise ValidationError("Enter a number written with the digits 0-9, e.g. 42.50.", code="invalid")
    try:
        return Decimal(text)
    except DecimalException:
        raise ValidationError("Enter a number.", code="invalid") from None


def validate_digits(number, *, max_digits, decimal_places):
    """`number` fits a DecimalField(max_digits, decimal_places)."""
    largest = Decimal(10) ** (max_digits - decimal_places)
    if not number.is_finite() or abs(number) >= largest:
        raise ValidationError(
            f"Enter a number below {largest:,} with at most {decimal_places} decimals.", code="max_digits"
        )
    if number != number.quantize(Decimal(10) ** -decimal_places):
        raise ValidationError(
            f"Enter a number with at most {decimal_places} decimals.", code="max_decimal_places"
        )


def parse_whole_number(value):
    """A whole number from JSON (an int, or a float without fraction) or text of the digits 0-9."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationError("Enter a whole number.", code="invalid")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValidationError("Enter a whole number.", code="invalid")
        return int(value)
    if isinstance(value, int):
        return value
    text = value.strip()
    if not WHOLE_NUMBER.fullmatch(text) or len(text) > 20:
        raise ValidationError("Enter a whole number written with the digits 0-9.", code="invalid")
    return int(text)


def parse_date(text):
    """An ISO 8601 date (YYYY-MM-DD) in the digits 0-9."""
    try:
        if not text.isascii():
            raise ValueError
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"“{text}” is not a date; write it as YYYY-MM-DD.", code="invalid") from None


def parse_datetime(text):
    """An ISO 8601 date and time in the digits 0-9, naive or with a UTC offset of at most ±15:59."""
    try:
        if not text.isascii():
            raise ValueError
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            "Enter an ISO 8601 date and time, e.g. 2026-11-01T12:00:00Z.", code="invalid"
        ) from None
    validate_utc_offset(moment)
    return moment


def validate_utc_offset(moment):
    offset = moment.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise ValidationError("Enter a UTC offset between -15:59 and +15:59.", code="invalid")


def latest_order_time():
    return timezone.now() + ORDER_TIME_LEEWAY


def validate_order_time(moment):
    """An aware time between 1970-01-01 and a day from now."""
    validate_utc_offset(moment)
    latest = latest_order_time()
    if not EARLIEST_TIME <= moment <= latest:
        raise ValidationError(
            f"Enter a time between {EARLIEST_TIME:%Y-%m-%d} and {latest:%Y-%m-%d %H:%M} UTC.",
            code="out_of_range",
        )


def validate_date_of_birth(day):
    today = timezone.localdate()
    if not EARLIEST_BIRTH_DATE <= day <= today:
        raise ValidationError(
            f"Enter a date of birth between {EARLIEST_BIRTH_DATE} and today ({today}).", code="out_of_range"
        )


def validate_day_between(day, earliest, latest):
    if not earliest <= day <= latest:
        raise ValidationError(f"Enter a date between {earliest} and {latest}.", code="out_of_range")


# Phones and addresses ----------------------------------------------------------------------


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


# "x", "ext" or "#" and digits closing the number; phonenumbers drops a bare "x".
PHONE_EXTENSION = re.compile(r"(x|ext\.?|extension|#)\s*\d*\s*$", re.IGNORECASE)


def check_no_extension(raw):
    """Customers are found by their phone, which has no room for an extension."""
    if PHONE_EXTENSION.search(str(raw or "")):
        raise ValidationError({"phone": "A phone with an extension cannot be saved: remove the extension."})


def phone_country(phone):
    """The ISO country of an E.164 phone number, or None."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(phone)) or None
    except phonenumbers.NumberParseException:
        return None


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


def plain(value):
    """A value as the timeline's JSON holds it: dates and times in ISO 8601."""
    return value.isoformat() if hasattr(value, "isoformat") else value


# Local days of a business ------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def zone(name):
    """The ZoneInfo of a business's time zone name (UTC when blank)."""
    return zoneinfo.ZoneInfo(name or "UTC")


def local_day(time_zone, moment):
    return moment.astimezone(zone(time_zone)).date()


def day_start(time_zone, day):
    """The instant a local day starts; with DST a day lasts 23 or 25 hours."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone(time_zone))


def first_of_month(day):
    return day.replace(day=1)


def add_months(month, count):
    """The first day of the month `count` months after (or before) `month`'s."""
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)
