"""Domain signals of the loyalty app."""

from django.dispatch import Signal

# Sent inside the transaction that changed the tiers, with business_id=<int> and
# customer_ids=[ids of the customers whose tier moved], once per chunk of a recalculation,
# so that listeners (segments) can do their work set-based.
tiers_changed = Signal()
