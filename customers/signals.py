"""Domain signals of the customers app. Other apps subscribe in their AppConfig.ready();
customers itself imports none of them."""

from django.dispatch import Signal

# Sent inside the recording transaction with order=<Order>, customer=<Customer>.
order_recorded = Signal()
# Sent when an order's status changed, with order=<Order>, old_status=<str>.
order_status_changed = Signal()
# An import sends this instead of order_recorded for each order: once per chunk, inside its
# transaction, with business=<Business>, order_ids=[new order ids] and customer_ids=[their
# customers' ids], so that listeners can do their work set-based.
orders_imported = Signal()
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
# Sent inside the transaction that added or removed tags, with business_id=<int> and
# customer_ids=[ids of the customers whose tags changed], so that listeners (segments with
# tag rules) re-evaluate them set-based.
tags_changed = Signal()
