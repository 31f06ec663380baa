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
# A customer import sends this once per chunk, inside its transaction, with the same
# business, created_customer_ids, actor and opt_ins as orders_imported.
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
