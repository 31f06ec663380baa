"""What a data export holds, one section per kind of data: `data.json` has one top-level key
per section. Each app registers its sections from its AppConfig.ready():

    export_sections.register("consents", consents_of, covers=["privacy.ConsentEvent.customer"])

where `consents_of(customer)` returns JSON-able data and `covers` names the foreign keys to
Customer ("app_label.Model.field") whose rows the section holds. A test walks every foreign
key to Customer and fails when none of the GDPR_FULL sections covers it, so new data about a
person cannot be left out of their export."""

from collections.abc import Callable
from dataclasses import dataclass, field

from customers.models import (
    Customer,
    DuplicateCandidate,
    DuplicateDismissal,
    MergeRecord,
    Order,
    OrderItem,
    Payment,
    Refund,
)
from loyalty.models import CustomerLifetimeValue, PointsEntry, RollingFigures, TierChange, TierState
from segments.models import PendingEvaluation, SegmentMembership, SegmentMembershipEvent

# The contract's keys, in this order, present in every GDPR_FULL export; a key whose app has
# not registered its section (yet) holds this empty value.
CONTRACT_KEYS = {
    "profile": None,
    "accounts": [],
    "addresses": [],
    "orders": [],
    "notes": [],
    "tags": [],
    "blacklist": [],
    "loyalty": None,
    "segments": [],
    "preferences": None,
    "consents": [],
    "timeline": [],
    "access_log": [],
}
BASIC_KEYS = ["profile", "orders"]


@dataclass(frozen=True)
class Section:
    name: str
    build: Callable
    covers: list[str] = field(default_factory=list)


SECTIONS: dict[str, Section] = {}


def register(name, build, *, covers=()):
    """Add (or replace: ready() may run twice) the section `name` of every GDPR_FULL export."""
    SECTIONS[name] = Section(name, build, list(covers))


def covered_foreign_keys():
    return {label for section in SECTIONS.values() for label in section.covers}


def sections_for(customer, keys=None):
    """{key: data} for `keys` (all: GDPR_FULL), the contract's keys first."""
    names = list(CONTRACT_KEYS) + [name for name in SECTIONS if name not in CONTRACT_KEYS]
    if keys is not None:
        names = [name for name in names if name in keys]
    data = {}
    for name in names:
        section = SECTIONS.get(name)
        data[name] = section.build(customer) if section else CONTRACT_KEYS[name]
    return data


# The customers app's sections ----------------------------------------------------------

PROFILE_FIELDS = [
    "id",
    "phone",
    "first_name",
    "last_name",
    "preferred_name",
    "email",
    "date_of_birth",
    "language",
    "timezone",
    "status",
    "phone_verified",
    "is_blacklisted",
    "tier",
    "points_balance",
    "order_count",
    "total_spent",
    "first_order_at",
    "last_order_at",
    "referred_by_id",
    "created_at",
    "updated_at",
    "deleted_at",
    "merged_into_id",
    "anonymized_at",
]


def profile(customer):
    row = Customer.objects.filter(pk=customer.pk).values(*PROFILE_FIELDS).get()
    row["referred_customer_ids"] = list(
        Customer.objects.filter(referred_by=customer).values_list("pk", flat=True)
    )
    row["merged_customer_ids"] = list(
        Customer.objects.filter(merged_into=customer).values_list("pk", flat=True)
    )
    return row


def accounts(customer):
    return list(
        customer.accounts.order_by("pk").values(
            "id", "provider", "email", "external_id", "phone", "created_at"
        )
    )


def addresses(customer):
    return list(
        customer.dropoffs.order_by("pk").values(
            "id",
            "kind",
            "street",
            "street2",
            "city",
            "state",
            "postal_code",
            "country",
            "lat",
            "lng",
            "is_default",
            "created_at",
        )
    )


ORDER_FIELDS = [
    "id",
    "external_id",
    "amount",
    "currency",
    "status",
    "placed_at",
    "completed_at",
    "source",
    "dropoff_id",
    "original_dropoff_id",
    "created_at",
]


def orders(customer):
    """Every order with its items: two queries, read as plain rows (10,000 orders in well
    under a second)."""
    rows = list(Order.objects.filter(customer=customer).order_by("placed_at", "pk").values(*ORDER_FIELDS))
    items = {}
    for item in (
        OrderItem.objects.filter(order__customer=customer)
        .order_by("pk")
        .values("order_id", "sku", "name", "category", "quantity", "price")
    ):
        items.setdefault(item.pop("order_id"), []).append(item)
    for row in rows:
        row["items"] = items.get(row["id"], [])
    return rows


PAYMENT_FIELDS = [
    "id",
    "order_id",
    "order__external_id",
    "transaction_id",
    "amount",
    "currency",
    "method",
    "status",
    "provider",
    "processed_at",
    "refunded_amount",
    "created_at",
]


def payments(customer):
    """Every payment of the customer's orders with its refunds: two queries."""
    rows = list(Payment.objects.filter(order__customer=customer).order_by("pk").values(*PAYMENT_FIELDS))
    refunds = {}
    for refund in (
        Refund.objects.filter(payment__order__customer=customer)
        .order_by("pk")
        .values("payment_id", "id", "amount", "reason", "source", "actor__username", "created_at")
    ):
        refunds.setdefault(refund.pop("payment_id"), []).append(refund)
    for row in rows:
        row["refunds"] = refunds.get(row["id"], [])
    return rows


def notes(customer):
    return list(customer.notes.order_by("pk").values("id", "body", "author__username", "created_at"))


def tags(customer):
    return list(customer.tags.order_by("name").values_list("name", flat=True))


def blacklist(customer):
    return list(
        customer.blacklist_entries.order_by("pk").values(
            "action", "reason", "note", "actor__username", "created_at"
        )
    )


def timeline(customer):
    return list(customer.activities.order_by("pk").values("kind", "data", "actor__username", "created_at"))


def merges(customer):
    """The merges this customer survived, and the duplicate pairs found with them."""
    records = MergeRecord.objects.filter(survivor=customer).order_by("pk")
    return list(records.values("id", "merged_ids", "reason", "created_at", "undone_at"))


def duplicates(customer):
    found = [
        {"other_customer_id": b if a == customer.pk else a, "reasons": reasons, "score": score}
        for a, b, reasons, score in DuplicateCandidate.objects.filter(customer_a=customer)
        .values_list("customer_a_id", "customer_b_id", "reasons", "score")
        .union(
            DuplicateCandidate.objects.filter(customer_b=customer).values_list(
                "customer_a_id", "customer_b_id", "reasons", "score"
            )
        )
    ]
    dismissed = [
        b if a == customer.pk else a
        for a, b in DuplicateDismissal.objects.filter(customer_a=customer)
        .values_list("customer_a_id", "customer_b_id")
        .union(
            DuplicateDismissal.objects.filter(customer_b=customer).values_list(
                "customer_a_id", "customer_b_id"
            )
        )
    ]
    return {"candidates": found, "not_duplicates_of": dismissed}


def register_customers_sections():
    register("profile", profile, covers=["customers.Customer.referred_by", "customers.Customer.merged_into"])
    register("accounts", accounts, covers=["customers.CustomerAccount.customer"])
    register("addresses", addresses, covers=["customers.Dropoff.customer"])
    register("orders", orders, covers=["customers.Order.customer"])
    # Payments belong to orders (no foreign key to Customer of their own).
    register("payments", payments)
    register("notes", notes, covers=["customers.Note.customer"])
    register("tags", tags, covers=["customers.Customer_tags.customer"])
    register("blacklist", blacklist, covers=["customers.BlacklistEntry.customer"])
    register("timeline", timeline, covers=["customers.Activity.customer"])
    register("merges", merges, covers=["customers.MergeRecord.survivor"])
    register(
        "duplicates",
        duplicates,
        covers=[
            "customers.DuplicateCandidate.customer_a",
            "customers.DuplicateCandidate.customer_b",
            "customers.DuplicateDismissal.customer_a",
            "customers.DuplicateDismissal.customer_b",
        ],
    )


# The loyalty app's data, read through its models (its public queries answer for the
# profile and the API, not for a whole history) ------------------------------------------


def loyalty(customer):
    state = TierState.objects.filter(customer=customer).values(
        "below_since", "override_tier", "override_reason", "override_expires_at"
    )
    value = CustomerLifetimeValue.objects.filter(customer=customer).values(
        "current",
        "predicted_365d",
        "expected_orders_365d",
        "probability_alive",
        "model_version",
        "calculated_at",
    )
    return {
        "tier": customer.tier,
        "points_balance": customer.points_balance,
        "tier_state": next(iter(state), None),
        "tier_changes": list(
            TierChange.objects.filter(customer=customer)
            .order_by("pk")
            .values("from_tier", "to_tier", "cause", "reason", "changed_at")
        ),
        "lifetime_value": next(iter(value), None),
        "rolling_figures": next(
            iter(
                RollingFigures.objects.filter(customer=customer).values(
                    "spend_monthly",
                    "visits_monthly",
                    "spend_quarterly",
                    "visits_quarterly",
                    "spend_yearly",
                    "visits_yearly",
                    "computed_at",
                )
            ),
            None,
        ),
        "points_ledger": list(
            PointsEntry.objects.filter(customer=customer)
            .order_by("pk")
            .values("kind", "points", "order_id", "reason", "created_at")
        ),
    }


def segments(customer):
    return {
        "memberships": list(
            SegmentMembership.objects.filter(customer=customer)
            .order_by("since", "pk")
            .values("segment_id", "segment__name", "since")
        ),
        "history": list(
            SegmentMembershipEvent.objects.filter(customer=customer)
            .order_by("pk")
            .values("segment_id", "segment__name", "kind", "cause", "at")
        ),
        "awaiting_evaluation": PendingEvaluation.objects.filter(customer=customer).exists(),
    }


def register_segments_sections():
    register(
        "segments",
        segments,
        covers=[
            "segments.SegmentMembership.customer",
            "segments.SegmentMembershipEvent.customer",
            "segments.PendingEvaluation.customer",
        ],
    )


def register_loyalty_sections():
    register(
        "loyalty",
        loyalty,
        covers=[
            "loyalty.TierChange.customer",
            "loyalty.TierState.customer",
            "loyalty.CustomerLifetimeValue.customer",
            "loyalty.PointsEntry.customer",
            "loyalty.RollingFigures.customer",
        ],
    )
