"""An ordered set of templates that other apps contribute to a page of customers (the
profile's panels, the dashboard's sections), each with a function giving its context, so
that customers shows them without importing those apps."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    template: str
    context: Callable
    order: int


@dataclass(frozen=True)
class RenderedPanel:
    template: str
    context: dict


class Panels:
    def __init__(self):
        self.panels: list[Panel] = []

    def register(self, template, context, *, order=100):
        """Add a panel after the panels of a lower `order`. Registering the same template
        again replaces it (ready() may run more than once in tests)."""
        self.panels[:] = [panel for panel in self.panels if panel.template != template]
        self.panels.append(Panel(template=template, context=context, order=order))
        self.panels.sort(key=lambda panel: panel.order)

    def unregister(self, template):
        self.panels[:] = [panel for panel in self.panels if panel.template != template]

    def render(self, *args):
        """The panels whose context function, called with `args`, gives a context (None
        means "show nothing here", e.g. a feature the user may not see)."""
        rendered = []
        for panel in self.panels:
            context = panel.context(*args)
            if context is not None:
                rendered.append(RenderedPanel(template=panel.template, context=context))
        return rendered
