from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from customers import list_filters, normalize, queries
from customers.models import Customer, Dropoff, Tag, tier_rank
from customers.tenancy import scoped

DEFAULT_SORT = "-created"
# The most rows one can pick on the list (checkboxes, or `ids=1,2,3` in a link).
MAX_PICKED = 10_000
# Sort choice -> (label, ORDER BY). Each ends with the id, so that pages never overlap;
# customers without an order come last both ways.
SORTS = {
    "-created": ("Newest first", ["-created_at", "-id"]),
    "created": ("Oldest first", ["created_at", "id"]),
    "name": ("Name A–Z", ["last_name", "first_name", "id"]),
    "-name": ("Name Z–A", ["-last_name", "-first_name", "-id"]),
    "-spent": ("Highest total spent", ["-total_spent", "-id"]),
    "spent": ("Lowest total spent", ["total_spent", "id"]),
    "-orders": ("Most orders", ["-order_count", "-id"]),
    "orders": ("Fewest orders", ["order_count", "id"]),
    "-last_order": ("Latest order", [F("last_order_at").desc(nulls_last=True), "-id"]),
    "last_order": ("Earliest order", [F("last_order_at").asc(nulls_last=True), "id"]),
    "-tier": ("Highest tier", [tier_rank().desc(), F("id").desc()]),
    "tier": ("Lowest tier", [tier_rank().asc(), F("id").asc()]),
}
# A first click on a column header sorts names A–Z and figures and dates biggest first.
FIRST_CLICK = {
    "name": "name",
    "created": "-created",
    "spent": "-spent",
    "orders": "-orders",
    "last_order": "-last_order",
}


# A bound beyond what the column holds is a form error, not a number the database refuses.
SPENT_DIGITS = {
    "max_digits": Customer._meta.get_field("total_spent").max_digits,
    "decimal_places": Customer._meta.get_field("total_spent").decimal_places,
}


def business_tags(request):
    return scoped(request, Tag)


def list_filter(request, customers):
    """The customer list's filter over `customers`, as the list page builds it (and bench)."""
    return CustomerFilter(request.GET, queryset=queries.customer_list(customers), request=request)


# Every stored time lies in these days (the constraints of the order times); a bound
# outside them would overflow when turned into a time of the current time zone.
FIRST_DAY = normalize.EARLIEST_TIME.date()
LAST_DAY = (normalize.LATEST_STORED_TIME - timedelta(days=1)).date()


def validate_day(day):
    normalize.validate_day_between(day, FIRST_DAY, LAST_DAY)


class DayFilter(django_filters.DateFilter):
    """A day bound on a datetime column, in the current time zone; an upper bound
    (lookup `lt`) includes its whole day."""

    def __init__(self, **kwargs):
        super().__init__(widget=forms.DateInput(attrs={"type": "date"}), validators=[validate_day], **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        if self.lookup_expr == "lt":
            value += timedelta(days=1)
        return super().filter(qs, timezone.make_aware(datetime.combine(value, time.min)))


class CustomerFilter(django_filters.FilterSet):
    # The search box sits above the results, outside the filter panel's <form id="customer-filters">.
    q = django_filters.CharFilter(
        label="Search",
        method="search",
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "size": 40,
                "placeholder": "Name, email or 4+ digits of a phone",
                "form": "customer-filters",
                "autofocus": True,
                # static/js/app.js focuses the element of this shortcut when "/" is typed.
                "aria-keyshortcuts": "/",
            }
        ),
    )
    status = django_filters.ChoiceFilter(choices=Customer.Status.choices, empty_label="Any")
    tier = django_filters.ChoiceFilter(choices=Customer.Tier.choices, empty_label="Any")
    blacklisted = django_filters.ChoiceFilter(
        label="Blacklisted",
        choices=[("yes", "Yes"), ("no", "No")],
        empty_label="Any",
        method="filter_blacklisted",
    )
    tag = django_filters.ModelChoiceFilter(
        label="Tag", field_name="tags", queryset=business_tags, empty_label="Any"
    )
    city = django_filters.CharFilter(method="filter_dropoffs", label="City")
    country = django_filters.CharFilter(method="filter_dropoffs", label="Country", max_length=2)
    spent_min = django_filters.NumberFilter(
        field_name="total_spent", lookup_expr="gte", label="Total spent from", **SPENT_DIGITS
    )
    spent_max = django_filters.NumberFilter(
        field_name="total_spent", lookup_expr="lte", label="Total spent to", **SPENT_DIGITS
    )
    last_order_from = DayFilter(field_name="last_order_at", lookup_expr="gte", label="Last order from")
    last_order_to = DayFilter(field_name="last_order_at", lookup_expr="lt", label="Last order to")
    created_from = DayFilter(field_name="created_at", lookup_expr="gte", label="Created from")
    created_to = DayFilter(field_name="created_at", lookup_expr="lt", label="Created to")
    # The rows picked on the list, for the bulk actions and the export of just those rows.
    ids = django_filters.CharFilter(method="filter_picked", widget=forms.HiddenInput)
    o = django_filters.ChoiceFilter(
        label="Sort by",
        choices=[(key, label) for key, (label, _) in SORTS.items()],
        empty_label=None,
        method="sort",
    )

    class Meta:
        model = Customer
        fields = []

    def __init__(self, data=None, queryset=None, *, business=None, **kwargs):
        """The list passes its request; an export passes the business instead."""
        super().__init__(data, queryset, **kwargs)
        self.business = business or self.request.business
        if business is not None:
            self.filters["tag"].queryset = Tag.objects.filter(business=business)
        for extra in list_filters.FILTERS.values():
            self.filters[extra.name] = self.extra_filter(extra)

    def extra_filter(self, extra):
        """A filter another app registered (customers.list_filters), bound to this business."""
        business = self.business

        def apply(queryset, name, value):
            return extra.apply(queryset, value, business)

        choice = django_filters.ChoiceFilter(
            label=extra.label, choices=lambda: extra.choices(business), empty_label="Any", method=apply
        )
        choice.parent = self
        return choice

    def search(self, queryset, name, value):
        return queries.search_customers(queryset, value, country=self.business.default_country)

    def filter_blacklisted(self, queryset, name, value):
        return queryset.filter(is_blacklisted=value == "yes")

    def filter_dropoffs(self, queryset, name, value):
        """Customers with an address in that city or country (any case)."""
        dropoffs = Dropoff.objects.filter(customer=OuterRef("pk"), **{f"{name}__iexact": value.strip()})
        return queryset.filter(Exists(dropoffs))

    def filter_picked(self, queryset, name, value):
        picked = [pk.strip() for pk in value.split(",")][:MAX_PICKED]
        return queryset.filter(pk__in=[int(pk) for pk in picked if pk.isdigit() and len(pk) < 19])

    def sort(self, queryset, name, value):
        return queryset.order_by(*SORTS[value][1])

    def current_sort(self):
        return self.form.cleaned_data.get("o") or DEFAULT_SORT

    def sort_headers(self):
        """For each sortable column: the query string sorting by it (the other way round
        when it is the current sort, back to page 1) and its CSS class."""
        current = self.current_sort()
        headers = {}
        for column, first_click in FIRST_CLICK.items():
            params = self.data.copy()
            params.pop("page", None)
            if current.lstrip("-") == column:
                params["o"] = column if current.startswith("-") else f"-{column}"
                css_class = "sorted-desc" if current.startswith("-") else "sorted-asc"
            else:
                params["o"], css_class = first_click, ""
            headers[column] = {"query": params.urlencode(), "class": css_class}
        return headers
