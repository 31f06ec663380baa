"""Domain signals of the customers app. Other apps subscribe in their AppConfig.ready();
customers itself imports none of them."""

from django.dispatch import Signal

# Sent inside the recording transaction with order=<Order>, customer=<Customer>.
order_recorded = Signal()
# Sent when an order's status changed, with order=<Order>, old_status=<str>.
order_status_changed = Signal()
