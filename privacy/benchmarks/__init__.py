"""The figures of the privacy app for `manage.py bench`, one module per area; the harness of
customers/benchmarks/harness.py measures and prints them."""

from privacy.benchmarks import audience, orders, requests


def figures(context):
    if context.wants("privacy"):
        yield from audience.figures(context)
        yield from orders.figures(context)
    yield from requests.figures(context)
