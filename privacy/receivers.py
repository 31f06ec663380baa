"""The privacy app's handlers of the customers app's domain signals, connected in
PrivacyConfig.ready()."""

from privacy import services
from privacy.demo import seed_demo_requests


def log_pii_access(sender, actor, api_key, business, customer_ids, what, query, address, **kwargs):
    services.record_access(
        business=business,
        actor=actor,
        api_key=api_key,
        customer_ids=customer_ids,
        what=what,
        query=query,
        address=address,
    )


def seed_demo_privacy(sender, business, actor, rng, **kwargs):
    seed_demo_requests(business=business, support=actor, rng=rng)
