"""Domain signals of the customers app. Other apps subscribe in their AppConfig.ready();
customers itself imports none of them."""

from django.dispatch import Signal

# The opt-in fields an order (API or import) or a customer import may carry: JSON booleans
# or yes/no cells, validated by customers and passed on as given, for the privacy app to
# record as consents.
OPT_IN_FIELDS = ["marketing_opt_in", "email_opt_in", "sms_opt_in"]

# Sent inside the recording transaction with order=<Order>, customer=<Customer> and
# opt_ins={name: bool} of the OPT_IN_FIELDS the order carried ({} when none).
order_recorded = Signal()
# Sent when an order's status changed, with order=<Order>, old_status=<str>.
order_status_changed = Signal()
# An import sends this instead of order_recorded for each order: once per chunk, inside its
# transaction, with business=<Business>, order_ids=[new order ids], customer_ids=[their
# customers' ids], created_customer_ids=[those the chunk created], actor=<User or None> and
# opt_ins={customer id: {name: bool}} of the OPT_IN_FIELDS cells of its rows (a later row
# wins), so that listeners can do their work set-based.
orders_imported = Signal()
# The order API's batch (POST /api/v1/orders/batch) sends this instead of order_recorded for
# each order: once per batch, inside its transaction, with the business, order_ids,
# customer_ids, created_customer_ids and actor of orders_imported, and checkouts=[{"customer_id",
# "external_id", "source", "opt_ins"}] of the orders that carried opt-in fields, in the batch's
# order: consents given at checkout, as order_recorded's opt_ins.
orders_recorded = Signal()
# A customer import sends this once per chunk, inside its transaction, with the same
# business, created_customer_ids, actor and opt_ins as orders_imported, and
# updated_fields={customer id: [names of the contact fields the chunk changed]}.
customers_imported = Signal()
# Sent inside the merge transaction with record=<MergeRecord>, survivor=<Customer> and
# merged=[<Customer> as they were before the merge]. Apps with their own data about a
# customer (consents, points) move it to the survivor here, the most restrictive consent winning.
# What a receiver needs to undo its part it keeps under its own key of record.snapshot.
customers_merged = Signal()
# Sent inside the undo transaction with record=<MergeRecord>.
merge_undone = Signal()
# Sent by seed_demo once it generated a business's data, with business=<Business>,
# actor=<the support user> and rng=<random.Random>, so that other apps add their demo data.
demo_seeded = Signal()
# Sent where customers shows or exports personal data, once per page view (a list page: one
# signal naming the customers of the page), with actor=<User or None>, api_key=<ApiKey or
# None>, business=<Business>, customer_ids=[ids], what=<one of PII_ACCESS_KINDS>,
# query=<the list's search and filters, or "">, address=<the client's IP or None>.
pii_accessed = Signal()
PROFILE_VIEWED, LIST_VIEWED, LIST_EXPORTED, ADMIN_VIEWED = (
    "profile_viewed",
    "list_viewed",
    "list_exported",
    "admin_viewed",
)
# Sent inside the anonymization transaction with business=<Business>, customer_ids=[ids] and
# actor=<User or None>, once their personal data is gone, so that other apps clear theirs
# (communication preferences, segment snapshots) in the same transaction.
customer_anonymized = Signal()


def send_pii_accessed(request, *, customer_ids, what, query=""):
    """Tell the access log that this request shows these customers' personal data."""
    pii_accessed.send(
        sender=None,
        actor=request.user if request.user.is_authenticated else None,
        api_key=None,
        business=request.business,
        customer_ids=list(customer_ids),
        what=what,
        query=query,
        address=request.META.get("REMOTE_ADDR") or None,
    )


# Sent inside the transaction that added or removed tags, with business_id=<int> and
# customer_ids=[ids of the customers whose tags changed], so that listeners (segments with
# tag rules) re-evaluate them set-based.
tags_changed = Signal()
