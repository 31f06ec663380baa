"""Sections that other apps add to the owner's dashboard (e.g. segments' sizes over time),
so that the dashboard shows them without importing those apps. An app registers its
section from its AppConfig.ready():

    dashboard_sections.register("segments/dashboard_section.html", segment_sizes, order=10)

where `segment_sizes(business, period)` reads the app's own queries for the period (an
object with `start`, `end` (local dates, inclusive) and `bucket` ("day", "week" or
"month")) and returns the template's context, or None to show nothing. A section should
cost a fixed number of queries whatever the range."""

from customers.panels import Panels

DASHBOARD_SECTIONS = Panels()
register = DASHBOARD_SECTIONS.register


def sections_for(business, period):
    return DASHBOARD_SECTIONS.render(business, period)
