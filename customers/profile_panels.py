"""Panels that other apps add to the customer profile (loyalty, segments, privacy), so that
customers shows them without importing those apps. An app registers its panel from its
AppConfig.ready():

    profile_panels.register("loyalty/profile_panel.html", loyalty_panel, order=10)

where `loyalty_panel(customer, user)` reads the app's own queries and returns the template's
context, or None to show nothing (e.g. a feature the user may not see). Each panel should
cost a fixed number of queries, whatever the customer's history: the profile's query count
is pinned in the tests."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProfilePanel:
    template: str
    context: Callable
    order: int


@dataclass(frozen=True)
class RenderedPanel:
    template: str
    context: dict


PANELS: list[ProfilePanel] = []


def register(template, context, *, order=100):
    """Add a panel to every profile, after the panels of a lower `order`. Registering the
    same template again replaces it (ready() may run more than once in tests)."""
    PANELS[:] = [panel for panel in PANELS if panel.template != template]
    PANELS.append(ProfilePanel(template=template, context=context, order=order))
    PANELS.sort(key=lambda panel: panel.order)


def panels_for(customer, user):
    """The panels to show on this customer's profile to this user, with their context."""
    rendered = []
    for panel in PANELS:
        context = panel.context(customer, user)
        if context is not None:
            rendered.append(RenderedPanel(template=panel.template, context=context))
    return rendered
