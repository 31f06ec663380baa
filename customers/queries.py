"""Reads of the customers app: search, lists, profile, duplicates and merges (the
dashboard's figures are in customers.dashboard)."""

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import phonenumbers
from django.db import OperationalError, connection, connections, transaction
from django.db.models import Case, Exists, OuterRef, Prefetch, Q, Sum, When
from django.utils import timezone

from customers.merge_registry import DROPOFFS, MERGE_FIELDS, MERGE_HANDLING, MOVE, model_and_column
from customers.models import (
    Activity,
    BlacklistEntry,
    Customer,
    Dropoff,
    DuplicateCandidate,
    DuplicateScan,
    MergeRecord,
    Order,
    Payment,
    Refund,
    Tag,
    WebhookDelivery,
    WebhookEndpoint,
    searchable,
)

MIN_PHONE_FRAGMENT = 4
CUSTOMERS_PER_PAGE = 50
# What templates/customers/list.html shows of a customer.
LIST_FIELDS = [
    "phone",
    "first_name",
    "last_name",
    "email",
    "status",
    "is_blacklisted",
    "tier",
    "order_count",
    "total_spent",
    "last_order_at",
    "created_at",
    "deleted_at",
    "merged_into",
]
# The list counts its matches exactly up to this many (a few milliseconds even at a million
# customers, as the count stops there); past it, it shows PostgreSQL's estimate. So does it
# when counting takes longer than the timeout: a filter that few customers match on an
# unindexed column (status, blacklisted) reads the whole business (~0.2 s at 300,000).
EXACT_COUNT_LIMIT = 10_000
EXACT_COUNT_TIMEOUT = "100ms"
# The datalist of the profile's tag input.
TAG_SUGGESTIONS = 500
ORDERS_PER_PAGE = 20
TIMELINE_PER_PAGE = 20
# Keeps OFFSET far inside SQL's integer range whatever page number a URL asks for.
LAST_PAGE_NUMBER = 1_000_000
# The timeline partial of a kind of activity that has none of its own.
DEFAULT_ACTIVITY = "customers/includes/activity/default.html"


def search_customers(queryset, text, country=None):
    """Free-text search: a phone in any format or a fragment of at least 4 digits, names
    without regard to case or accents, the customer's and their accounts' emails.
    `country` reads national phone formats ("07700 900123" in GB is +447700900123)."""
    text = (text or "").strip()
    if not text:
        return queryset
    condition = Q(search_text__contains=searchable(text))
    digits = re.sub(r"\D", "", text)
    if len(digits) >= MIN_PHONE_FRAGMENT and not re.search(r"[^\d\s()+.\-]", text):
        condition |= Q(phone__contains=digits)
        international = international_digits(text, country)
        if international and international != digits:
            condition |= Q(phone__contains=international)
    return queryset.filter(condition)


def international_digits(text, country):
    """The E.164 digits of `text` read as a whole phone number of `country`, or None."""
    try:
        number = phonenumbers.parse(text, (country or "US").upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


class Page:
    """One page of rows, found without counting all rows (a COUNT over a big business is
    slow): the query asks for one row more than a page to learn whether a next page exists.
    Offers what templates/components/pagination.html uses of Django's Page."""

    # Set by counted_page() for lists that say how many rows they have.
    total = None
    page_count = None

    def __init__(self, rows, number, per_page):
        self.object_list = rows[:per_page]
        self.number = number
        self.has_next = len(rows) > per_page
        self.has_previous = number > 1
        self.next_page_number = number + 1
        self.previous_page_number = number - 1

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)


@dataclass(frozen=True)
class ResultCount:
    """How many rows a list has; `estimated` when it is the planner's guess."""

    value: int
    estimated: bool
    per_page: int

    @property
    def pages(self):
        return max(1, math.ceil(self.value / self.per_page))


def counted_page(queryset, number, per_page):
    """Page `number` of `queryset` (or its last page for "last") with `total`, a
    ResultCount, and `page_count`."""
    if number == "last":
        total = count_rows(queryset, per_page)
        page = last_page(queryset, total, per_page)
    else:
        page = page_of(queryset, number, per_page)
        total = count_rows(queryset, per_page, page)
    page.total = total
    page.page_count = max(total.pages, page.number + page.has_next)
    return page


def count_rows(queryset, per_page, page=None):
    """Exact up to EXACT_COUNT_LIMIT, else PostgreSQL's estimate. A page that ends the
    list tells the count without a query."""
    if page is not None and (page.object_list or page.number == 1) and not page.has_next:
        return ResultCount((page.number - 1) * per_page + len(page), False, per_page)
    queryset = queryset.order_by()
    limited = queryset[: EXACT_COUNT_LIMIT + 1]
    if connection.vendor != "postgresql":  # no estimate to fall back on
        bounded = limited.count()
        return ResultCount(bounded if bounded <= EXACT_COUNT_LIMIT else queryset.count(), False, per_page)
    bounded = count_within_timeout(limited)
    if bounded is not None and bounded <= EXACT_COUNT_LIMIT:
        return ResultCount(bounded, False, per_page)
    estimate = max(planned_rows(queryset), bounded or 1)
    # Four significant digits: "about 1,004,000".
    return ResultCount(round(estimate, 3 - int(math.log10(estimate))), True, per_page)


def count_within_timeout(queryset):
    """queryset.count(), or None when PostgreSQL takes longer than EXACT_COUNT_TIMEOUT. On
    the database the queryset reads from (a replica under use_replica()), chosen before the
    transaction keeps reads on the primary."""
    db = queryset.db
    queryset = queryset.using(db)
    try:
        with transaction.atomic(using=db), connections[db].cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('statement_timeout'), set_config('statement_timeout', %s, true)",
                [EXACT_COUNT_TIMEOUT],
            )
            previous = cursor.fetchone()[0]
            count = queryset.count()
            # set_config(..., true) lasts until the transaction ends, which may be the caller's.
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
            return count
    except OperationalError:  # the timeout cancelled the count, and the savepoint undid the setting
        return None


def planned_rows(queryset):
    """How many rows PostgreSQL's planner expects `queryset` to return."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


def last_page(queryset, total, per_page):
    """The last page. Past an estimate its number is approximate too: its rows are the
    last `per_page` in the list's order, read from the other end of the index."""
    if not total.estimated:
        return page_of(queryset, total.pages, per_page)
    rows = list(queryset.reverse()[:per_page])[::-1]
    return Page(rows, total.pages, per_page)


def page_of(queryset, number, per_page):
    """Page `number` (1-based, as it comes from the URL; anything else means 1) of an ordered queryset."""
    try:
        number = min(max(int(number), 1), LAST_PAGE_NUMBER)
    except (TypeError, ValueError):
        number = 1
    offset = (number - 1) * per_page
    return Page(list(queryset[offset : offset + per_page + 1]), number, per_page)


def customer_list(customers):
    """The rows of the customer list: newest first unless a sort says otherwise, only the
    columns the list shows, tags in one query as `listed_tags` (a plain list, which spares
    the queryset per row that prefetching into `tags` makes)."""
    tags = Prefetch("tags", to_attr="listed_tags")
    return customers.order_by("-created_at", "-id").prefetch_related(tags).only(*LIST_FIELDS)


def customer_profile(customer, *, orders_page=1, timeline_page=1):
    """Everything the profile page shows, in the same number of queries however long the
    customer's history is."""
    last_order_at = customer.last_order_at
    dropoffs = list(customer.dropoffs.all())
    accounts = list(customer.accounts.all())
    # Items as a plain list, `listed_items`: no queryset per order.
    items = Prefetch("items", to_attr="listed_items")
    orders = customer.orders.select_related("dropoff", "original_dropoff").prefetch_related(
        items, order_payments()
    )
    orders_page = page_of(orders.order_by("-placed_at", "-id"), orders_page, ORDERS_PER_PAGE)
    describe_orders(orders_page, customer, accounts)
    timeline = page_of(customer.activities.select_related("actor"), timeline_page, TIMELINE_PER_PAGE)
    describe_activities(timeline, {d.pk: d for d in dropoffs}, {a.pk: a for a in accounts})
    # The customer's tags and the business's others (the tag input's suggestions) in one query.
    tagged = Customer.tags.through.objects.filter(customer_id=customer.pk, tag_id=OuterRef("pk"))
    tags = list(
        Tag.objects.filter(business_id=customer.business_id)
        .annotate(on_customer=Exists(tagged))
        .order_by("-on_customer", "name")[:TAG_SUGGESTIONS]
    )
    return {
        "customer": customer,
        "tags": [tag for tag in tags if tag.on_customer],
        "tag_suggestions": [tag for tag in tags if not tag.on_customer],
        "accounts": accounts,
        "dropoffs": dropoffs,
        "orders": orders_page,
        "payment_totals": customer_payment_totals(customer),
        "notes": list(customer.notes.select_related("author")),
        "blacklist_history": list(customer.blacklist_entries.select_related("actor")),
        "timeline": timeline,
        "days_since_last_order": (timezone.now() - last_order_at).days if last_order_at else None,
        "possible_duplicates": possible_duplicates_of(customer),
        "undoable_merges": undoable_merges_into(customer),
    }


def describe_orders(orders, customer, accounts):
    """Give each order of the page its money (paid, refunded, outstanding), its cash on
    delivery flag and the storefront accounts of the person it came through (an order names
    its storefront as `source`, an account its `provider`)."""
    by_provider = defaultdict(list)
    for account in accounts:
        by_provider[account.provider.lower()].append(account)
    for order in orders:
        order.money = money_of(order, order.listed_payments)
        order.cod_unverified = cod_unverified(customer, order.listed_payments)
        order.via_accounts = by_provider.get(order.source.lower(), []) if order.source else []


def describe_activities(activities, dropoffs, accounts):
    """Give each timeline entry what its template needs beyond its JSON data: the partial of
    its kind (a kind without one shows its name), labels for field names and reason codes, and
    the addresses and accounts its ids point to."""
    contact_labels = {field.name: field.verbose_name for field in Customer._meta.fields}
    reasons = BlacklistEntry.ALL_REASONS
    for activity in activities:
        data = activity.data
        activity.template_names = [f"customers/includes/activity/{activity.kind}.html", DEFAULT_ACTIVITY]
        if activity.kind == Activity.Kind.CONTACT_UPDATED:
            activity.changes = [
                (contact_labels.get(field, field), old, new)
                for field, (old, new) in data.get("changes", {}).items()
            ]
        elif activity.kind in (Activity.Kind.BLACKLISTED, Activity.Kind.UNBLACKLISTED):
            activity.reason_label = reasons.get(data.get("reason"), data.get("reason"))
        elif activity.kind == Activity.Kind.ORDER_ADDRESS_CHANGED:
            activity.old_dropoff = dropoffs.get(data.get("old_dropoff_id"))
            activity.new_dropoff = dropoffs.get(data.get("new_dropoff_id"))
        elif activity.kind == Activity.Kind.ACCOUNT_LINKED:
            activity.account = accounts.get(data.get("account_id"))


# Payments -----------------------------------------------------------------------------

# Orders that still expect their money; the others (cancelled, refunded, blocked) owe nothing.
OWING_STATUSES = [Order.Status.PENDING, Order.Status.COMPLETED]


@dataclass(frozen=True)
class OrderMoney:
    paid: Decimal
    refunded: Decimal
    outstanding: Decimal

    @property
    def fully_refunded(self):
        return self.paid > 0 and self.refunded == self.paid


def order_payments():
    """The prefetch of orders' payments, oldest first, with their refunds and who made them,
    as plain lists (`listed_payments`, `listed_refunds`)."""
    refunds = Prefetch("refunds", queryset=Refund.objects.select_related("actor"), to_attr="listed_refunds")
    payments = Payment.objects.order_by("created_at", "id").prefetch_related(refunds)
    return Prefetch("payments", queryset=payments, to_attr="listed_payments")


def money_of(order, payments):
    """Paid is what the payments took (refunded or not), refunded what went back,
    outstanding what an order still expecting its money has not been paid."""
    paid = sum((p.amount for p in payments if p.status in Payment.CAPTURED_STATUSES), Decimal("0.00"))
    refunded = sum((p.refunded_amount for p in payments), Decimal("0.00"))
    owing = order.status in OWING_STATUSES
    return OrderMoney(
        paid=paid, refunded=refunded, outstanding=max(order.amount - paid, 0) if owing else Decimal("0.00")
    )


def order_with_payments(orders, pk):
    """One order of `orders` (a business's) with its customer, items, payments and refunds, or None."""
    return (
        orders.filter(pk=pk)
        .select_related("customer")
        .prefetch_related(Prefetch("items", to_attr="listed_items"), order_payments())
        .first()
    )


def cod_unverified(customer, payments):
    """Cash on delivery from a customer whose phone nobody verified: the courier may find no one."""
    return not customer.phone_verified and any(p.method == Payment.Method.CASH_ON_DELIVERY for p in payments)


def customer_payment_totals(customer):
    """Paid, refunded and outstanding over all the customer's orders, and their failed
    payment attempts, in one query whatever their number (a row per order: the outstanding
    amount is counted order by order)."""
    captured = Q(payments__status__in=Payment.CAPTURED_STATUSES)
    rows = (
        Order.objects.filter(customer=customer)
        .order_by()
        .values("pk")
        .annotate(
            paid=Sum("payments__amount", filter=captured),
            refunded=Sum("payments__refunded_amount"),
            # A sum rather than COUNT: the profile's pages never count (see its tests).
            failed=Sum(Case(When(payments__status=Payment.Status.FAILED, then=1), default=0)),
        )
        .values_list("amount", "status", "paid", "refunded", "failed")
    )
    totals = {
        "paid": Decimal("0.00"),
        "refunded": Decimal("0.00"),
        "outstanding": Decimal("0.00"),
        "failed": 0,
    }
    for amount, status, paid, refunded, failed in rows:
        totals["paid"] += paid or 0
        totals["refunded"] += refunded or 0
        totals["failed"] += failed or 0
        if status in OWING_STATUSES:
            totals["outstanding"] += max(amount - (paid or 0), 0)
    return totals


# Duplicates and merges --------------------------------------------------------------

DUPLICATES_PER_PAGE = 50
PROFILE_DUPLICATES = 5


def duplicate_candidates(candidates):
    """The candidate pairs of live customers, surest first."""
    return (
        candidates.filter(customer_a__deleted_at__isnull=True, customer_b__deleted_at__isnull=True)
        .select_related("customer_a", "customer_b")
        .order_by("-score", "id")
    )


def last_duplicate_scan(business):
    return DuplicateScan.objects.filter(business=business).select_related("requested_by").first()


def possible_duplicates_of(customer):
    """[(other customer, candidate)] for the profile's “possible duplicate of” notice."""
    candidates = duplicate_candidates(
        DuplicateCandidate.objects.filter(Q(customer_a=customer) | Q(customer_b=customer))
    )[:PROFILE_DUPLICATES]
    return [
        (candidate.customer_b if candidate.customer_a_id == customer.pk else candidate.customer_a, candidate)
        for candidate in candidates
    ]


def undoable_merges_into(customer):
    since = timezone.now() - timedelta(days=MergeRecord.UNDO_DAYS)
    return list(MergeRecord.objects.filter(survivor=customer, undone_at__isnull=True, created_at__gte=since))


def rows_to_move(label, merged_ids, involved_ids):
    """How many rows of one foreign key to Customer would move to the survivor."""
    model, column = model_and_column(label)
    rows = model._base_manager.filter(**{f"{column}__in": merged_ids})
    if model is Customer:
        rows = rows.exclude(pk__in=involved_ids)
    count = rows.count()
    return rows_label(model, count), count


def rows_label(model, count):
    """ "1 order", "2 orders"."""
    return model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural


def default_field_choices(survivor, merged):
    """For each merge field, the id of the record whose value is kept: the survivor's when it
    has one, else the first merged record's that has one."""
    choices = {}
    for field in MERGE_FIELDS:
        source = next((c for c in [survivor, *merged] if getattr(c, field) not in (None, "")), survivor)
        choices[field] = source.pk
    return choices


def undo_blockers(record):
    """Why `record` can no longer be undone faithfully (empty when it can)."""
    if record.undone_at:
        return [f"This merge was already undone on {record.undone_at:%Y-%m-%d %H:%M}."]
    if timezone.now() > record.undo_deadline:
        return [f"A merge can be undone within {MergeRecord.UNDO_DAYS} days; this one is older."]
    customers = Customer.objects.in_bulk([record.survivor_id, *record.merged_ids])
    survivor = customers[record.survivor_id]
    blockers = []
    if survivor.deleted_at or survivor.anonymized_at:
        blockers.append(
            f"#{survivor.pk} was deleted, anonymized or merged into another customer since; undo that first."
        )
    for pk in record.merged_ids:
        customer = customers[pk]
        if customer.merged_into_id != survivor.pk or customer.anonymized_at:
            blockers.append(f"#{pk} changed since the merge.")
        elif Customer.objects.live().filter(business_id=record.business_id, phone=customer.phone).exists():
            blockers.append(f"Another customer now has the phone {customer.phone} of #{pk}.")
    for label, by_owner in record.moved.items():
        model, column = model_and_column(label)
        ids = [pk for owner_ids in by_owner.values() for pk in owner_ids]
        still_there = model._base_manager.filter(pk__in=ids, **{column: survivor.pk}).count()
        if still_there != len(ids):
            blockers.append(
                f"{len(ids) - still_there} {model._meta.verbose_name_plural} that the merge moved "
                "have since moved on or been removed."
            )
    return blockers + dropoff_undo_blockers(record)


def dropoff_undo_blockers(record):
    """Each order going back must point only at addresses going back to the same customer,
    and no order placed since the merge may use an address that goes back."""
    moved_orders = record.moved.get("customers.Order.customer", {})
    moved_dropoffs = record.moved.get(DROPOFFS, {})
    dropoffs = record.snapshot.get("dropoffs", {})
    collapsed_into = {int(pk): kept for pk, kept in dropoffs.get("collapsed_into", {}).items()}
    returning = defaultdict(set)
    for owner, ids in moved_dropoffs.items():
        returning[owner].update(ids)
    for row in dropoffs.get("collapsed", []):
        returning[str(row["customer_id"])].add(row["id"])
    blockers = []
    for owner, ids in moved_orders.items():
        for pk, dropoff_id, original_id in Order.objects.filter(pk__in=ids).values_list(
            "pk", "dropoff_id", "original_dropoff_id"
        ):
            before = dropoffs.get("orders", {}).get(str(pk))
            if before:
                merged_to = [collapsed_into.get(value, value) for value in before]
                targets = before if merged_to == [dropoff_id, original_id] else [dropoff_id, original_id]
            else:
                targets = [dropoff_id, original_id]
            if any(target is not None and target not in returning[owner] for target in targets):
                blockers.append(f"The address of order #{pk} changed after the merge.")
    all_moved_orders = [pk for ids in moved_orders.values() for pk in ids]
    all_returning = [pk for ids in returning.values() for pk in ids if pk not in collapsed_into]
    newer = Order.objects.filter(Q(dropoff_id__in=all_returning) | Q(original_dropoff_id__in=all_returning))
    if newer.exclude(pk__in=all_moved_orders).exists():
        blockers.append("Orders recorded since the merge use addresses that came with the merged customers.")
    return blockers


def merge_preview(survivor, merged):
    """What the merge page shows: every profile field side by side with the default choice,
    the rows that would move, and what needs attention."""
    customers = [survivor, *merged]
    merged_ids = [customer.pk for customer in merged]
    involved_ids = [survivor.pk, *merged_ids]
    defaults = default_field_choices(survivor, merged)
    fields = []
    for name in MERGE_FIELDS:
        values = [(customer, field_display(customer, name)) for customer in customers]
        distinct = {value for _, value in values if value not in (None, "")}
        fields.append(
            {
                "name": name,
                "label": Customer._meta.get_field(name).verbose_name,
                "values": values,
                "default": defaults[name],
                "conflict": len(distinct) > 1,
            }
        )
    moves = [
        rows_to_move(label, merged_ids, involved_ids)
        for label, handling in MERGE_HANDLING.items()
        if handling == MOVE or label == DROPOFFS
    ]
    survivor_tags = set(survivor.tags.values_list("pk", flat=True))
    new_tags = Tag.objects.filter(customers__in=merged_ids).exclude(pk__in=survivor_tags).distinct()
    tags_added = new_tags.count()
    moves.append(("tag added" if tags_added == 1 else "tags added", tags_added))
    return {
        "fields": fields,
        "moves": [(label, count) for label, count in moves if count],
        "warnings": merge_warnings(survivor, merged),
    }


def field_display(customer, name):
    display = getattr(customer, f"get_{name}_display", None)
    value = display() if display else getattr(customer, name)
    # Dates as everywhere else in the app (YYYY-MM-DD), not in the locale's words.
    return value.isoformat() if isinstance(value, date) else value


def merge_warnings(survivor, merged):
    merged_ids = [customer.pk for customer in merged]
    warnings = []
    survivor_addresses = set(survivor.dropoffs.values_list("kind", "address_key"))
    merged_dropoffs = Dropoff.objects.filter(customer_id__in=merged_ids)
    merged_addresses = list(merged_dropoffs.values_list("kind", "address_key"))
    collapsing = len(merged_addresses) - len(set(merged_addresses) - survivor_addresses)
    if collapsing == 1:
        warnings.append("1 address is identical to another and collapses into it; its orders follow.")
    elif collapsing:
        warnings.append(
            f"{collapsing} addresses are identical to others and collapse into them; their orders follow."
        )
    total_addresses = len(survivor_addresses | set(merged_addresses))
    if total_addresses > Dropoff.MAX_PER_CUSTOMER:
        warnings.append(
            f"The survivor will have {total_addresses} addresses, more than the usual "
            f"{Dropoff.MAX_PER_CUSTOMER}; the merge keeps them all."
        )
    blacklisted = [f"#{customer.pk}" for customer in merged if customer.is_blacklisted]
    if blacklisted and not survivor.is_blacklisted:
        verb = "is" if len(blacklisted) == 1 else "are"
        warnings.append(f"{', '.join(blacklisted)} {verb} blacklisted: the survivor will be blacklisted too.")
    phones = ", ".join(customer.phone for customer in merged)
    warnings.append(f"The survivor keeps the phone {survivor.phone}; {phones} will find it too.")
    return warnings


def merge_record_details(record):
    merged = Customer.objects.filter(pk__in=record.merged_ids).order_by("pk")
    counts = []
    for label, by_owner in record.moved.items():
        moved = sum(len(ids) for ids in by_owner.values())
        if moved:
            counts.append((rows_label(model_and_column(label)[0], moved), moved))
    fields = {
        Customer._meta.get_field(name).verbose_name: source for name, source in record.field_choices.items()
    }
    return {
        "record": record,
        "merged": list(merged),
        "moved": counts,
        "field_choices": fields,
        "undo_blockers": undo_blockers(record),
    }


def find_customer_by_phone(business, phone, for_update=False):
    """The live customer with this E.164 phone. A merged customer's phone resolves to the
    survivor; an anonymized customer is never found, so the person comes back as new.
    `for_update` locks the customer found (in the caller's transaction)."""
    customers = Customer.objects.filter(business=business, phone=phone, anonymized_at__isnull=True)
    live = customers.live()
    # At most one: the phone is unique among live customers (and first() would add an ORDER BY).
    customer = next(iter(live.select_for_update() if for_update else live), None)
    if customer is not None:
        return customer
    merged = customers.filter(merged_into__isnull=False).order_by("-deleted_at").first()
    seen = set()
    while merged is not None and merged.merged_into_id and merged.pk not in seen:
        seen.add(merged.pk)
        merged = Customer.objects.get(pk=merged.merged_into_id)
        if merged.deleted_at is None:
            return Customer.objects.select_for_update().get(pk=merged.pk) if for_update else merged
    return None


def lock_phones(business, phones):
    """Wait for the transactions in flight that create customers with these phones, until
    the caller's transaction ends: each phone's advisory lock on PostgreSQL (a customer
    being created has no row to lock yet), taken in a fixed order so that two callers
    cannot deadlock. SQLite runs one writer at a time, so there is nothing to wait for."""
    if connection.vendor != "postgresql" or not phones:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(phone_key) FROM (SELECT DISTINCT "
            "hashtextextended(phone, %s) AS phone_key FROM unnest(%s::text[]) AS phone "
            "ORDER BY phone_key) AS phone_keys",
            [business.pk, list(phones)],
        )


# Webhooks ------------------------------------------------------------------------------

DELIVERIES_PER_PAGE = 50


def webhook_endpoints(business):
    return WebhookEndpoint.objects.filter(business=business).order_by("created_at", "id")


def webhook_deliveries(endpoint):
    """An endpoint's delivery log, newest first, with each delivery's event type and id."""
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .defer("event__data")
        .order_by("-id")
    )


def webhook_deliveries_api_page(endpoint, *, before=None):
    """A page of `GET webhooks/{id}/deliveries` and the cursor of the next one (or None)."""
    deliveries = webhook_deliveries(endpoint)
    if before is not None:
        deliveries = deliveries.filter(id__lt=before)
    rows = list(deliveries[: DELIVERIES_PER_PAGE + 1])
    next_cursor = rows[DELIVERIES_PER_PAGE - 1].pk if len(rows) > DELIVERIES_PER_PAGE else None
    return rows[:DELIVERIES_PER_PAGE], next_cursor


def webhook_delivery_json(delivery):
    return {
        "id": delivery.pk,
        "event_id": str(delivery.event.uid),
        "type": delivery.event.type,
        "attempts": delivery.attempts,
        "status": delivery.status,
        "last_response_code": delivery.last_response_code,
        "last_attempt_at": delivery.last_attempt_at.isoformat() if delivery.last_attempt_at else None,
    }


def webhook_endpoint_json(endpoint):
    """An endpoint as the API shows it: never its secret."""
    return {"id": endpoint.pk, "url": endpoint.url, "events": endpoint.events, "active": endpoint.active}
