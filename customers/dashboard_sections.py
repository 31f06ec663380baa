"""Sections that other apps add to the owner's dashboard (e.g. segments' sizes over time),
so that the dashboard shows them without importing those apps. An app registers its
section from its AppConfig.ready():

    dashboard_sections.register("segments/dashboard_section.html", segment_sizes, order=10)

where `segment_sizes(business, period)` reads the app's own queries for the period (an
object with `start`, `end` (local dates, inclusive) and `bucket` ("day", "week" or
"month")) and returns the template's context, or None to show nothing. A section should
cost a fixed number of queries whatever the range."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DashboardSection:
    template: str
    context: Callable
    order: int


@dataclass(frozen=True)
class RenderedSection:
    template: str
    context: dict


SECTIONS: list[DashboardSection] = []


def register(template, context, *, order=100):
    """Add a section to the dashboard, after the sections of a lower `order`. Registering
    the same template again replaces it (ready() may run more than once in tests)."""
    SECTIONS[:] = [section for section in SECTIONS if section.template != template]
    SECTIONS.append(DashboardSection(template=template, context=context, order=order))
    SECTIONS.sort(key=lambda section: section.order)


def sections_for(business, period):
    rendered = []
    for section in SECTIONS:
        context = section.context(business, period)
        if context is not None:
            rendered.append(RenderedSection(template=section.template, context=context))
    return rendered
