"""Filters that other apps add to the customer list (segments adds "Segment"), so that
customers offers them without importing those apps. The list, its export and the bulk
actions all filter through customers.filters.CustomerFilter, which adds these. An app
registers its filter from its AppConfig.ready():

    list_filters.register("segment", label="Segment", choices=segment_choices, apply=in_segment)

where `choices(business)` returns the [(value, label)] offered, and `apply(queryset, value,
business)` narrows the customers to those of that value (a value outside the choices is a
form error before it is applied)."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ListFilter:
    name: str
    label: str
    choices: Callable
    apply: Callable


FILTERS: dict[str, ListFilter] = {}


def register(name, *, label, choices, apply):
    """Add a filter to the customer list; registering a name again replaces it."""
    FILTERS[name] = ListFilter(name=name, label=label, choices=choices, apply=apply)
