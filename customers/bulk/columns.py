"""The columns of the import files of each kind, and how a file's first row maps onto them."""

import re

from customers.bulk.tables import ImportFileError
from customers.signals import OPT_IN_FIELDS

CUSTOMER_COLUMNS = [
    "phone",
    "first_name",
    "last_name",
    "email",
    "date_of_birth",
    "language",
    "tags",
    "street",
    "city",
    "state",
    "postal_code",
    "country",
]
ORDER_COLUMNS = [
    "external_id",
    "phone",
    "amount",
    "currency",
    "placed_at",
    "status",
    "source",
    "street",
    "city",
    "postal_code",
    "country",
]
# An order row's payment: one payment of the order's amount, recorded once per transaction id.
PAYMENT_COLUMNS = ["payment_method", "payment_status", "transaction_id"]
# Accepted as well: the ids and order fields the exports write, so that an export imports
# back unchanged, the order's payment, and the customer's opt-ins (yes/no cells, recorded as consents).
OPTIONAL_COLUMNS = {
    "customers": ["id", *OPT_IN_FIELDS],
    "orders": ["id", "first_name", "last_name", "email", "state", "items", *PAYMENT_COLUMNS, *OPT_IN_FIELDS],
}
TEMPLATE_COLUMNS = {"customers": CUSTOMER_COLUMNS, "orders": ORDER_COLUMNS}
REQUIRED_COLUMNS = {"customers": ["phone"], "orders": ["external_id", "phone", "amount"]}
ADDRESS_COLUMNS = ["street", "city", "state", "postal_code", "country"]
CONTACT_COLUMNS = ["first_name", "last_name", "email", "date_of_birth", "language"]


def known_columns(kind):
    return TEMPLATE_COLUMNS[kind] + OPTIONAL_COLUMNS[kind]


def column_key(name):
    """Header names match whatever their case, spaces, dashes and underscores."""
    return re.sub(r"[\s_\-]+", "", str(name or "").strip().lower())


def map_headers(headers, kind):
    """{column: position} of the known columns, and the names of the ignored ones."""
    wanted = {column_key(column): column for column in known_columns(kind)}
    positions, ignored = {}, []
    for position, header in enumerate(headers):
        column = wanted.get(column_key(header))
        if column is None:
            if str(header or "").strip():
                ignored.append(str(header).strip())
        elif column in positions:
            raise ImportFileError(f"The column “{column}” appears twice in the first row.")
        else:
            positions[column] = position
    missing = [column for column in REQUIRED_COLUMNS[kind] if column not in positions]
    if missing:
        raise ImportFileError(
            f"Missing column(s): {', '.join(missing)}. The first row must name the columns: "
            f"{', '.join(TEMPLATE_COLUMNS[kind])}."
        )
    return positions, ignored
