"""The customers endpoints of the API: create by phone, list, profile, contact changes, a
customer's orders and address book. Writes go through the services the pages use; reads of
personal data are logged as the key's (signals.pii_accessed)."""

from datetime import datetime

from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import HttpResponse
from django.utils import timezone

from customers import services
from customers.api import cursors, profile_sections, responses, schemas
from customers.api.auth import ApiError, messages_by_field
from customers.api.endpoints import endpoint
from customers.api.forms import AddressBookForm, ContactForm, CustomerForm, CustomerListForm
from customers.api.views import call_service, found, money, time
from customers.filters import CustomerFilter
from customers.models import Customer, Dropoff, Order
from customers.signals import LIST_VIEWED, PROFILE_VIEWED, pii_accessed

PAGE_SIZE = 50
ORDERS_PAGE_SIZE = 50
# The customer list's filters that the API offers (segment is the segments app's, registered).
FILTERS = ["q", "tier", "segment", "status", "tag"]
LIST_QUERY = {
    "q": (schemas.STRING, "Name, email or 4+ digits of a phone"),
    "tier": (schemas.enum(Customer.Tier.values), "Customers of this tier"),
    "segment": (schemas.ID, "Members of this segment (id)"),
    "status": (schemas.enum(Customer.Status.values), "Customers of this status"),
    "tag": (schemas.ID, "Customers with this tag (id)"),
    "updated_since": (schemas.DATETIME, "Customers changed at or after this time"),
    "cursor": (schemas.STRING, "The `next` of the previous page"),
    "limit": ({"type": "integer", "minimum": 1, "maximum": 200}, f"Rows per page (default {PAGE_SIZE})"),
}
CURSOR_QUERY = {"cursor": (schemas.STRING, "The `next` of the previous page")}


def customer_of(call, pk):
    customers = Customer.objects.filter(business=call.business).live().select_related("business")
    return found(customers, pk, "customer")


def with_tags(customers):
    return customers.prefetch_related(Prefetch("tags", to_attr="listed_tags"))


def log_access(call, customer_ids, what, query=""):
    pii_accessed.send(
        sender=None,
        actor=None,
        api_key=call.api_key,
        business=call.business,
        customer_ids=customer_ids,
        what=what,
        query=query,
        address=call.request.META.get("REMOTE_ADDR") or None,
    )


def customer_json(customer, tags=None):
    """The customer object; `tags` when the customer has no prefetched `listed_tags`."""
    tags = customer.listed_tags if tags is None else tags
    return {
        "id": customer.pk,
        "phone": customer.phone,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "preferred_name": customer.preferred_name,
        "email": customer.email,
        "date_of_birth": customer.date_of_birth.isoformat() if customer.date_of_birth else None,
        "language": customer.language,
        "timezone": customer.timezone,
        "status": customer.status,
        "phone_verified": customer.phone_verified,
        "is_blacklisted": customer.is_blacklisted,
        "tier": customer.tier,
        "points_balance": customer.points_balance,
        "tags": [{"id": tag.pk, "name": tag.name} for tag in tags],
        "order_count": customer.order_count,
        "total_spent": money(customer.total_spent),
        "first_order_at": time(customer.first_order_at),
        "last_order_at": time(customer.last_order_at),
        "created_at": time(customer.created_at),
        "updated_at": time(customer.updated_at),
    }


def fresh_customer_json(customer):
    return customer_json(customer, tags=list(customer.tags.all()))


@endpoint(
    "GET",
    "customers:read",
    summary="List customers",
    description="The business's customers by id, filtered as on the customer list. The cursor "
    "pages are stable: customers created while paging come on later pages, none is skipped or repeated.",
    query=LIST_QUERY,
    responses={200: responses.CUSTOMERS, 400: None},
)
def customers(call):
    params = call.request.GET
    # The list page reads an empty filter as none; here it is outside its schema, so refused.
    blank = [name for name in LIST_QUERY if params.get(name) == "" and name not in ("q", "cursor")]
    if blank:
        raise ApiError(400, {name: ["Give a value, or leave the parameter out."] for name in blank})
    options = CustomerListForm(
        {name: params[name] for name in params if name in CustomerListForm.base_fields}
    )
    listed = CustomerFilter(
        {name: params[name] for name in FILTERS if name in params},
        queryset=Customer.objects.filter(business=call.business).live(),
        business=call.business,
    )
    # Both checked, so that every bad parameter is reported at once.
    valid = [options.is_valid(), listed.is_valid()]
    if not all(valid):
        raise ApiError(400, {**messages_by_field(options.errors), **messages_by_field(listed.errors)})
    rows = listed.qs
    if options.cleaned_data["updated_since"]:
        rows = rows.filter(updated_at__gte=options.cleaned_data["updated_since"])
    if options.cleaned_data["cursor"]:
        rows = rows.filter(pk__gt=cursors.decode(options.cleaned_data["cursor"], salt="api.customers"))
    limit = options.cleaned_data["limit"] or PAGE_SIZE
    rows, next_cursor = cursors.page(
        with_tags(rows.order_by("pk"))[: limit + 1], limit, keys=lambda row: row.pk, salt="api.customers"
    )
    log_access(call, [row.pk for row in rows], LIST_VIEWED, query=params.urlencode())
    return 200, {"results": [customer_json(row) for row in rows], "next": next_cursor}


@endpoint(
    "POST",
    "customers:write",
    summary="Create a customer, or find them by phone",
    description="Identity by phone: a phone the business knows answers 200 with that customer "
    "(unchanged), a new one 201 with the customer created.",
    body=CustomerForm,
    responses={201: responses.CUSTOMER, 200: responses.CUSTOMER, 400: None},
)
def create_customer(call):
    # The customer and its "created" timeline entry together (the service runs in its
    # callers' transactions elsewhere).
    with transaction.atomic():
        customer, created = call_service(
            services.get_or_create_customer, business=call.business, actor=None, **call.data
        )
    return (201 if created else 200), fresh_customer_json(customer)


@endpoint(
    "GET",
    "customers:read",
    summary="A customer's profile",
    description="The customer with stats, tier, points, and what the other apps keep of them "
    "(segments, communication preferences).",
    responses={200: responses.CUSTOMER_PROFILE, 404: None},
)
def customer(call, pk):
    profile = customer_of(call, pk)
    log_access(call, [profile.pk], PROFILE_VIEWED)
    last_order_at = profile.last_order_at
    average = profile.average_order_value
    return 200, {
        **fresh_customer_json(profile),
        "average_order_value": money(average) if average is not None else None,
        "days_since_last_order": (timezone.now() - last_order_at).days if last_order_at else None,
        **profile_sections.sections_of([profile])[profile.pk],
    }


@endpoint(
    "PUT",
    "customers:write",
    summary="Change a customer's contact data",
    description="The fields given change (null clears one), checked as on the profile page: the "
    "phone is normalized and unique in the business, language and time zone from their lists.",
    body=ContactForm,
    responses={200: responses.CUSTOMER, 400: None, 404: None},
)
def update_customer(call, pk):
    changed = call_service(
        services.update_contact, customer=customer_of(call, pk), actor=None, **call.form.changes(call.payload)
    )
    return 200, fresh_customer_json(changed)


@endpoint(
    "GET",
    "customers:read",
    summary="A customer's orders",
    description="Latest placed first, cursor-paged.",
    query=CURSOR_QUERY,
    responses={200: responses.CUSTOMER_ORDERS, 400: None, 404: None},
)
def customer_orders(call, pk):
    owner = customer_of(call, pk)
    orders = Order.objects.filter(customer=owner)
    cursor = call.request.GET.get("cursor")
    if cursor:
        placed_at, last_pk = cursors.decode(cursor, salt="api.customer-orders")
        placed_at = datetime.fromisoformat(placed_at)
        orders = orders.filter(Q(placed_at__lt=placed_at) | Q(placed_at=placed_at, pk__lt=last_pk))
    rows, next_cursor = cursors.page(
        orders.order_by("-placed_at", "-pk")[: ORDERS_PAGE_SIZE + 1],
        ORDERS_PAGE_SIZE,
        keys=lambda row: [row.placed_at.isoformat(), row.pk],
        salt="api.customer-orders",
    )
    return 200, {"results": [order_json(order) for order in rows], "next": next_cursor}


def order_json(order):
    return {
        "id": order.pk,
        "external_id": order.external_id,
        "status": order.status,
        "amount": money(order.amount),
        "currency": order.currency,
        "placed_at": time(order.placed_at),
        "completed_at": time(order.completed_at),
        "source": order.source,
        "created_at": time(order.created_at),
    }


# Address book ----------------------------------------------------------------------------


def address_json(dropoff):
    return {
        "id": dropoff.pk,
        "kind": dropoff.kind,
        "street": dropoff.street,
        "street2": dropoff.street2,
        "city": dropoff.city,
        "state": dropoff.state,
        "postal_code": dropoff.postal_code,
        "country": dropoff.country,
        "lat": float(dropoff.lat) if dropoff.lat is not None else None,
        "lng": float(dropoff.lng) if dropoff.lng is not None else None,
        "is_default": dropoff.is_default,
        "created_at": time(dropoff.created_at),
    }


def address_of(call, pk, address_pk):
    dropoffs = Dropoff.objects.filter(business=call.business, customer=customer_of(call, pk))
    return found(dropoffs.select_related("customer"), address_pk, "address")


def address_fields(data):
    return {name: value for name, value in data.items() if name not in ("kind", "is_default")}


@endpoint(
    "GET",
    "customers:read",
    summary="A customer's address book",
    description=f"Defaults first; at most {Dropoff.MAX_PER_CUSTOMER} addresses, so one page.",
    responses={200: responses.ADDRESSES, 404: None},
)
def addresses(call, pk):
    owner = customer_of(call, pk)
    return 200, {"results": [address_json(dropoff) for dropoff in owner.dropoffs.all()], "next": None}


@endpoint(
    "POST",
    "customers:write",
    summary="Add an address to a customer's address book",
    description="201 with the address; 200 with the one already there for the same address and "
    f"kind; 400 ADDRESS_LIMIT_EXCEEDED past {Dropoff.MAX_PER_CUSTOMER} addresses. The first of "
    "a kind is its default.",
    body=AddressBookForm,
    responses={201: responses.ADDRESS, 200: responses.ADDRESS, 400: None, 404: None},
)
def add_address(call, pk):
    dropoff, created = call_service(
        services.add_address,
        customer=customer_of(call, pk),
        address=address_fields(call.data),
        kind=call.data["kind"],
        is_default=bool(call.data["is_default"]),
        actor=None,
    )
    return (201 if created else 200), address_json(dropoff)


@endpoint(
    "PUT",
    "customers:write",
    summary="Replace an address of a customer's address book",
    description="The whole address; `is_default` true makes it its kind's default, false takes "
    "the flag off, null or absent keeps it.",
    body=AddressBookForm,
    responses={200: responses.ADDRESS, 400: None, 404: None},
)
def change_address(call, pk, address_pk):
    dropoff = call_service(
        services.change_address,
        dropoff=address_of(call, pk, address_pk),
        address=address_fields(call.data),
        kind=call.data["kind"],
        is_default=call.data["is_default"],
        actor=None,
    )
    return 200, address_json(dropoff)


@endpoint(
    "DELETE",
    "customers:write",
    summary="Remove an address from a customer's address book",
    description="The orders sent there keep no address.",
    responses={204: None, 404: None},
)
def remove_address(call, pk, address_pk):
    services.remove_address(dropoff=address_of(call, pk, address_pk), actor=None)
    return HttpResponse(status=204)
