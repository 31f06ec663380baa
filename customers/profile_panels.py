"""Panels that other apps add to the customer profile (loyalty, segments, privacy), so that
customers shows them without importing those apps. An app registers its panel from its
AppConfig.ready():

    profile_panels.register("loyalty/profile_panel.html", loyalty_panel, order=10)

where `loyalty_panel(customer, user)` reads the app's own queries and returns the template's
context, or None to show nothing (e.g. a feature the user may not see). Each panel should
cost a fixed number of queries, whatever the customer's history: the profile's query count
is pinned in the tests."""

from customers.panels import Panels

PROFILE_PANELS = Panels()
register = PROFILE_PANELS.register


def panels_for(customer, user):
    """The panels to show on this customer's profile to this user, with their context."""
    return PROFILE_PANELS.render(customer, user)
