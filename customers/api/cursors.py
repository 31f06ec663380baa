"""Cursors of the API's lists: the sort keys of a page's last row, signed so that a client
passes them back as they came (`next` -> `cursor`) and never builds one. A page after a
cursor starts past that row whatever was inserted meanwhile, so no row is skipped or
repeated."""

from django.core import signing

from customers.api.auth import ApiError


def encode(keys, salt):
    return signing.dumps(keys, salt=salt, compress=True)


def decode(cursor, salt):
    try:
        return signing.loads(cursor, salt=salt)
    except signing.BadSignature:
        raise ApiError(400, {"cursor": ["Pass the “next” value of the previous page."]}) from None


def page(rows, limit, keys, salt):
    """(the page's rows, the next page's cursor or None) of `rows`, fetched one past `limit`."""
    rows = list(rows)
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encode(keys(rows[limit - 1]), salt)
