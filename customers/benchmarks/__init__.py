"""The figures of the customers app for `manage.py bench`, one module per area; harness.py
measures and prints them."""


def figures(context):
    # Imported when called, not with the package: gunicorn imports raw_wsgi, the server
    # figures' baseline app, from this package before Django is set up.
    from customers.benchmarks import customers, dashboard, imports, merge, server, webhooks

    yield from customers.figures(context)
    yield from dashboard.figures(context)
    yield from webhooks.figures(context)
    # Both groups prepare a lot of data before their first figure.
    if context.wants("merge", "duplicates"):
        yield from merge.figures(context)
    if context.wants("import", "export"):
        yield from imports.figures(context)
    yield from server.figures(context)
