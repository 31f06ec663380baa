import unicodedata
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, OrderBy
from django.db.models.functions import Upper
from django.utils.timezone import now

from customers.normalize import EARLIEST_TIME, LATEST_STORED_TIME, validate_date_of_birth


class BusinessQuerySet(models.QuerySet):
    def for_user(self, user):
        if user.is_superuser:
            return self
        return self.filter(memberships__user=user)


class Business(models.Model):
    """The tenant: every customer and everything about them belongs to one business."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    default_country = models.CharField(
        max_length=2, default="US", help_text="ISO 3166 country used to read phone numbers without a +prefix."
    )
    currency = models.CharField(max_length=3, default="USD")
    timezone = models.CharField(max_length=64, default="UTC")
    api_requests_per_minute = models.PositiveIntegerField(
        default=1000, help_text="How many API calls each of the business's keys may make a minute."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BusinessQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "businesses"
        ordering = ["name"]
        permissions = [
            ("view_dashboard", "Can view the business dashboard"),
            ("use_segments", "Can view and manage segments"),
            ("use_loyalty", "Can view and configure loyalty tiers"),
            ("use_privacy", "Can use the privacy pages"),
            ("request_export", "Can request data exports"),
            ("run_privacy_actions", "Can approve and run anonymization and GDPR/CCPA exports"),
        ]

    def __str__(self):
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Business owner"
        SUPPORT = "support", "Support staff"
        COMPLIANCE = "compliance", "Compliance officer"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "business"], name="membership_one_role_per_business"),
        ]

    def __str__(self):
        return f"{self.user} · {self.business} · {self.get_role_display()}"


class TrigramIndex(GinIndex):
    """A trigram GIN index for `LIKE '%fragment%'` searches on PostgreSQL; on SQLite, which
    has no GIN, a plain index of the same name keeps migrations portable."""

    def __init__(self, *, fields, name):
        super().__init__(fields=fields, name=name, opclasses=["gin_trgm_ops"] * len(fields))

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        kwargs.pop("opclasses")
        return path, args, kwargs

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return models.Index(fields=self.fields, name=self.name).create_sql(model, schema_editor, **kwargs)
        return super().create_sql(model, schema_editor, using, **kwargs)


# Letters that Unicode does not decompose into a base letter and an accent.
UNDECOMPOSED_LETTERS = str.maketrans(
    {"ø": "o", "ł": "l", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ð": "d", "þ": "th"}
)


def searchable(*parts):
    """Lower-case, accent-free text for `Customer.search_text` and for search queries."""
    text = " ".join(part for part in parts if part).lower().translate(UNDECOMPOSED_LETTERS)
    text = unicodedata.normalize("NFKD", text)
    return " ".join("".join(ch for ch in text if not unicodedata.combining(ch)).lower().split())


class NullsLastIndex(models.Index):
    """Serves `ORDER BY ... NULLS LAST` on PostgreSQL; SQLite cannot store NULLS LAST in an
    index, so there it gets the same index without it."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            expressions = [
                OrderBy(e.expression, descending=e.descending) if isinstance(e, OrderBy) else e
                for e in self.expressions
            ]
            return models.Index(*expressions, name=self.name).create_sql(model, schema_editor, **kwargs)
        return super().create_sql(model, schema_editor, using, **kwargs)


def stored_time_range(model_name, name, null=False):
    """A CHECK that the timestamp `name` lies in the window every page can show."""
    in_range = models.Q(**{f"{name}__gte": EARLIEST_TIME, f"{name}__lt": LATEST_STORED_TIME})
    if null:
        in_range |= models.Q(**{f"{name}__isnull": True})
    return models.CheckConstraint(condition=in_range, name=f"{model_name}_{name}_in_range")


class TenantQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(business=business)


class TenantModel(models.Model):
    """Base of every model owned by a business; `customers.tenancy` scopes them all through `business`."""

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="+")

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


validate_tag_color = RegexValidator(
    r"^#[0-9a-fA-F]{6}\Z", "A colour is # and six hexadecimal digits, e.g. #2563eb."
)


class Tag(TenantModel):
    name = models.CharField(max_length=50)
    color = models.CharField(
        max_length=7, default="#64748b", validators=[validate_tag_color], help_text="#rrggbb, e.g. #2563eb"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            # Upper(), as the iexact lookup that finds a tag by name compares.
            models.UniqueConstraint(
                F("business"), Upper("name"), name="tag_name_unique_per_business_any_case"
            ),
            models.CheckConstraint(
                condition=models.Q(color__regex=r"^#[0-9a-fA-F]{6}$"), name="tag_color_is_rrggbb"
            ),
        ]

    def __str__(self):
        return self.name


class CustomerQuerySet(TenantQuerySet):
    def live(self):
        """Customers shown anywhere: not soft-deleted (merged customers are soft-deleted too)."""
        return self.filter(deleted_at__isnull=True)


def tier_rank():
    """A tier's rank (bronze 0 to platinum 3), so that lists sort by tier in its order."""
    return models.Case(
        models.When(tier="SILVER", then=1),
        models.When(tier="GOLD", then=2),
        models.When(tier="PLATINUM", then=3),
        default=0,
        output_field=models.IntegerField(),
    )


class Customer(TenantModel):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"
        SUSPENDED = "suspended", "Suspended"

    class Tier(models.TextChoices):
        BRONZE = "BRONZE", "Bronze"
        SILVER = "SILVER", "Silver"
        GOLD = "GOLD", "Gold"
        PLATINUM = "PLATINUM", "Platinum"

    phone = models.CharField(max_length=20, help_text="E.164, e.g. +14155550101")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    preferred_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    date_of_birth = models.DateField(null=True, blank=True, validators=[validate_date_of_birth])
    language = models.CharField(max_length=10, blank=True)
    timezone = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    phone_verified = models.BooleanField(default=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers")
    is_blacklisted = models.BooleanField(default=False)
    tier = models.CharField(max_length=10, choices=Tier.choices, default=Tier.BRONZE)
    points_balance = models.IntegerField(default=0)
    order_count = models.PositiveIntegerField(default=0)
    total_spent = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    first_order_at = models.DateTimeField(null=True, blank=True)
    last_order_at = models.DateTimeField(null=True, blank=True)
    referred_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Lower-case, accent-free names and emails (own and accounts'), kept by the services,
    # so one trigram index answers the free-text search.
    search_text = models.TextField(blank=True, default="", editable=False)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    anonymized_at = models.DateTimeField(null=True, blank=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        permissions = [
            ("blacklist_customer", "Can blacklist and un-blacklist customers"),
            ("restore_customer", "Can restore soft-deleted customers"),
            ("merge_customers", "Can merge duplicate customers and undo merges"),
            ("import_customer", "Can import customers from CSV/XLSX files"),
            ("export_customer", "Can export customers to CSV/XLSX files"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["business", "phone"],
                condition=models.Q(deleted_at__isnull=True),
                name="customer_phone_unique_per_business_among_live",
            ),
            stored_time_range("customer", "first_order_at", null=True),
            stored_time_range("customer", "last_order_at", null=True),
            # The balance is the sum of the loyalty app's points ledger, which never takes
            # more than a customer has.
            models.CheckConstraint(
                condition=models.Q(points_balance__gte=0), name="customer_points_balance_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["business", "-created_at", "-id"], name="customer_recent_idx"),
            models.Index(fields=["business", "-total_spent", "-id"], name="customer_spent_idx"),
            NullsLastIndex(
                "business",
                F("last_order_at").desc(nulls_last=True),
                F("id").desc(),
                name="customer_last_order_idx",
            ),
            models.Index(fields=["business", "-order_count", "-id"], name="customer_orders_idx"),
            # Customers by their first order: segment rules on first_order_at, new customers.
            models.Index(fields=["business", "first_order_at"], name="customer_first_order_idx"),
            # Counts of the live customers per tier and of the blacklisted ones (the dashboard,
            # the blacklisted filter) from small indexes alone, not a million rows.
            models.Index(
                fields=["business", "tier"],
                condition=models.Q(deleted_at__isnull=True),
                name="customer_live_tier_idx",
            ),
            models.Index(
                fields=["business"],
                condition=models.Q(is_blacklisted=True, deleted_at__isnull=True),
                name="customer_live_blacklisted_idx",
            ),
            # The live customers by their stats, for segment rules counted from the index
            # alone (last order before or after a day, spend and average, many orders).
            models.Index(
                fields=["business", "last_order_at"],
                condition=models.Q(deleted_at__isnull=True),
                name="customer_live_last_order_idx",
            ),
            models.Index(
                fields=["business", "total_spent", "order_count"],
                condition=models.Q(deleted_at__isnull=True),
                name="customer_live_spent_idx",
            ),
            models.Index(
                fields=["business", "order_count", "last_order_at"],
                condition=models.Q(deleted_at__isnull=True),
                name="customer_live_orders_idx",
            ),
            models.Index(fields=["business", "last_name", "first_name", "id"], name="customer_name_idx"),
            # The API's list: the live customers by id, the cursor's order.
            models.Index(
                fields=["business", "id"],
                condition=models.Q(deleted_at__isnull=True),
                name="customer_live_id_idx",
            ),
            # The API's list of the customers changed since a time, which a partner syncing
            # asks every few minutes: the few rows changed, not a walk through every customer.
            models.Index(
                fields=["business", "updated_at"],
                condition=models.Q(deleted_at__isnull=True),
                name="customer_live_updated_idx",
            ),
            models.Index(fields=["business", "phone"], name="customer_phone_idx"),
            models.Index(F("business"), tier_rank().desc(), F("id").desc(), name="customer_tier_idx"),
            # The owners' list of deleted customers, a few among many live ones.
            models.Index(
                fields=["business", "-created_at", "-id"],
                condition=models.Q(deleted_at__isnull=False),
                name="customer_deleted_recent_idx",
            ),
            TrigramIndex(fields=["search_text"], name="customer_search_trgm"),
            TrigramIndex(fields=["phone"], name="customer_phone_trgm"),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self):
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or self.phone

    @property
    def average_order_value(self):
        return self.total_spent / self.order_count if self.order_count else None


# The fields of a customer that staff edit; a merge takes each of them but the phone from the record chosen.
CONTACT_FIELDS = [
    "phone",
    "first_name",
    "last_name",
    "preferred_name",
    "email",
    "date_of_birth",
    "language",
    "timezone",
    "status",
]


class CustomerAccount(TenantModel):
    """A storefront login of the person; linked to the customer by phone."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="accounts")
    email = models.EmailField(blank=True)
    provider = models.CharField(max_length=50, help_text="Storefront or login provider, e.g. shopify, guest")
    external_id = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="The phone as the storefront gave it")
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["business", "provider", "external_id"],
                condition=~models.Q(external_id=""),
                name="account_external_id_unique_per_provider",
            ),
        ]

    def __str__(self):
        return f"{self.provider}: {self.email or self.external_id}"


class Dropoff(TenantModel):
    """An address of a customer; orders to the same address reuse it."""

    MAX_PER_CUSTOMER = 10

    class Kind(models.TextChoices):
        SHIPPING = "shipping", "Shipping"
        BILLING = "billing", "Billing"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="dropoffs")
    street = models.CharField(max_length=200)
    street2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)
    lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SHIPPING)
    is_default = models.BooleanField(default=False)
    # Room for every address field at its longest, with the five separators.
    address_key = models.CharField(max_length=640, editable=False, help_text="Normalized address, for reuse")
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-is_default", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind", "address_key"], name="dropoff_unique_address"
            ),
            models.UniqueConstraint(
                fields=["customer", "kind"],
                condition=models.Q(is_default=True),
                name="dropoff_one_default_per_kind",
            ),
        ]
        indexes = [
            models.Index("business", Upper("city"), name="dropoff_city_idx"),
            models.Index("business", Upper("country"), name="dropoff_country_idx"),
        ]

    def __str__(self):
        return ", ".join(
            part for part in (self.street, self.street2, self.city, self.postal_code, self.country) if part
        )


ADDRESS_LIMIT_EXCEEDED = f"ADDRESS_LIMIT_EXCEEDED: Too many addresses (max {Dropoff.MAX_PER_CUSTOMER})."
# An order's payment whose transaction id another order of the business has: format(transaction_id).
TRANSACTION_ID_TAKEN = "Transaction id “{}” is recorded already, for another order."


class Order(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"
        BLOCKED = "blocked", "Blocked"

    # Only completed orders count towards a customer's order count and spend.
    COUNTED_STATUSES = [Status.COMPLETED]

    external_id = models.CharField(max_length=100)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    dropoff = models.ForeignKey(
        Dropoff, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    original_dropoff = models.ForeignKey(
        Dropoff,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Where the order was first addressed, when the address changed mid-delivery",
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.COMPLETED)
    placed_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=50, blank=True, help_text="Partner app or storefront")
    created_customer = models.BooleanField(
        default=False, editable=False, help_text="This order created its customer"
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        permissions = [
            ("import_order", "Can import orders from CSV/XLSX files"),
            ("export_order", "Can export orders to CSV/XLSX files"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["business", "external_id"], name="order_external_id_unique_per_business"
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="order_amount_not_negative"),
            stored_time_range("order", "placed_at"),
            stored_time_range("order", "completed_at", null=True),
        ]
        indexes = [
            models.Index(fields=["customer", "-placed_at", "-id"], name="order_customer_recent_idx"),
            # Covers the dashboard's distinct customers of a range on PostgreSQL (an index-only scan).
            models.Index(
                fields=["business", "status", "placed_at", "customer"], name="order_status_day_cust_idx"
            ),
            # A customer's completed orders by time with their amounts, read from the index
            # alone: the loyalty tiers' rolling figures of one customer after each order, and
            # of an id range of customers in a recalculation.
            models.Index(
                fields=["customer", "placed_at", "amount"],
                condition=models.Q(status="completed"),
                name="order_customer_completed_idx",
            ),
        ]

    def __str__(self):
        return self.external_id


class OrderItem(TenantModel):
    MAX_QUANTITY = 1_000_000

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    sku = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=100, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    price = models.DecimalField(max_digits=12, decimal_places=2)

    def __str__(self):
        return f"{self.quantity} × {self.name}"


# Payments and refunds ------------------------------------------------------------------


class Payment(TenantModel):
    """One attempt to take money for an order, as the payment provider reported it."""

    class Method(models.TextChoices):
        CARD = "card", "Card"
        WALLET = "wallet", "Wallet"
        CASH_ON_DELIVERY = "cash_on_delivery", "Cash on delivery"
        VOUCHER = "voucher", "Voucher"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        REFUNDED = "refunded", "Refunded"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"

    # What a storefront or an import may report; the refunded statuses come from refunds only.
    REPORTED_STATUSES = [Status.PENDING, Status.SUCCEEDED, Status.FAILED]
    # Money that was taken (part of it may have gone back since).
    CAPTURED_STATUSES = [Status.SUCCEEDED, Status.PARTIALLY_REFUNDED, Status.REFUNDED]
    REFUNDABLE_STATUSES = [Status.SUCCEEDED, Status.PARTIALLY_REFUNDED]

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=20, choices=Method.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUCCEEDED)
    transaction_id = models.CharField(max_length=100, help_text="The provider's id, unique per business")
    provider = models.CharField(max_length=50, blank=True, help_text="Payment provider, e.g. stripe")
    processed_at = models.DateTimeField(null=True, blank=True)
    # The sum of the payment's refunds, kept by services.refund_payment under the row's lock.
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0, editable=False)
    created_at = models.DateTimeField(default=now)

    class Meta:
        permissions = [("refund_payment", "Can refund payments")]
        constraints = [
            models.UniqueConstraint(
                fields=["business", "transaction_id"], name="payment_transaction_id_unique_per_business"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive"),
            # Refunds never give back more than was paid, whatever the concurrency.
            models.CheckConstraint(
                condition=models.Q(refunded_amount__gte=0, refunded_amount__lte=F("amount")),
                name="payment_refunds_within_amount",
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_amount=0)
                | models.Q(status__in=["refunded", "partially_refunded"]),
                name="payment_only_refunded_statuses_have_refunds",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="refunded") | models.Q(refunded_amount=F("amount")),
                name="payment_refunded_in_full",
            ),
            stored_time_range("payment", "processed_at", null=True),
        ]
        indexes = [models.Index(fields=["order", "created_at", "id"], name="payment_order_idx")]

    def __str__(self):
        return self.transaction_id

    @property
    def refundable(self):
        if self.status not in self.REFUNDABLE_STATUSES:
            return Decimal(0)
        return self.amount - self.refunded_amount


class Refund(TenantModel):
    """Money given back on a payment: append-only, capped by the payment's amount."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="refunds")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=20, help_text="Where the refund was asked: profile, api, admin")
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive")
        ]
        indexes = [models.Index(fields=["payment", "created_at"], name="refund_payment_idx")]

    def __str__(self):
        return f"Refund of {self.amount} on {self.payment_id}"


class BlacklistEntry(TenantModel):
    """Append-only history of blacklist decisions."""

    class Action(models.TextChoices):
        BLACKLISTED = "blacklisted", "Blacklisted"
        UNBLACKLISTED = "unblacklisted", "Un-blacklisted"

    class Reason(models.TextChoices):
        """Why a customer is blacklisted."""

        FALSE_CLAIMS = "false_claims", "False claims"
        SUPPORT_ABUSE = "support_abuse", "Support abuse"
        FRAUD = "fraud", "Fraud"
        SAFETY = "safety", "Safety"
        OTHER = "other", "Other"

    class UnblacklistReason(models.TextChoices):
        """Why a customer comes off the blacklist."""

        APPEAL_ACCEPTED = "appeal_accepted", "Appeal accepted"
        RESOLVED = "resolved", "Resolved"
        MISTAKE = "mistake", "Mistake"
        OTHER = "other", "Other"

    # Older un-blacklisting rows hold blacklisting reasons: both sets stay readable.
    ALL_REASONS = {**dict(Reason.choices), **dict(UnblacklistReason.choices)}

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="blacklist_entries")
    action = models.CharField(max_length=15, choices=Action.choices)
    reason = models.CharField(max_length=20, choices=ALL_REASONS)
    note = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name_plural = "blacklist entries"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="blacklist_customer_idx")]

    def __str__(self):
        return f"{self.get_action_display()} ({self.get_reason_display()})"


class Note(TenantModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="note_customer_idx")]

    def __str__(self):
        return self.body[:60]


class Activity(TenantModel):
    """The customer's timeline, written by the services."""

    class Kind(models.TextChoices):
        CREATED = "created", "Customer created"
        ORDER_RECORDED = "order_recorded", "Order recorded"
        ORDER_STATUS_CHANGED = "order_status_changed", "Order status changed"
        ORDER_ADDRESS_CHANGED = "order_address_changed", "Order address changed"
        ACCOUNT_LINKED = "account_linked", "Account linked"
        CONTACT_UPDATED = "contact_updated", "Contact data updated"
        BLACKLISTED = "blacklisted", "Blacklisted"
        UNBLACKLISTED = "unblacklisted", "Un-blacklisted"
        NOTE_ADDED = "note_added", "Note added"
        TAGGED = "tagged", "Tag added"
        UNTAGGED = "untagged", "Tag removed"
        DELETED = "deleted", "Deleted"
        RESTORED = "restored", "Restored"
        MERGED = "merged", "Duplicates merged in"
        MERGED_INTO = "merged_into", "Merged into another customer"
        MERGE_UNDONE = "merge_undone", "Merge undone"
        TIER_CHANGED = "tier_changed", "Tier changed"
        POINTS_CHANGED = "points_changed", "Points"
        PREFERENCE_CHANGED = "preference_changed", "Communication preferences changed"
        DATA_EXPORTED = "data_exported", "Data export requested"
        ANONYMIZATION_REQUESTED = "anonymization_requested", "Anonymization requested"
        ANONYMIZED = "anonymized", "Anonymized"
        SEGMENT_JOINED = "segment_joined", "Joined segment"
        SEGMENT_LEFT = "segment_left", "Left segment"
        PAYMENT_RECORDED = "payment_recorded", "Payment recorded"
        REFUNDED = "refunded", "Refund"
        PHONE_VERIFIED = "phone_verified", "Phone verified"
        ADDRESS_ADDED = "address_added", "Address added"
        ADDRESS_CHANGED = "address_changed", "Address changed"
        ADDRESS_REMOVED = "address_removed", "Address removed"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name_plural = "activities"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at", "-id"], name="activity_customer_idx")]

    def __str__(self):
        return self.get_kind_display()


class ApiKey(TenantModel):
    """A business's key for the API. Only a SHA-256 of the secret is stored."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    hashed_secret = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list, help_text="What the key may do: names from choices.API_SCOPES.")
    created_at = models.DateTimeField(default=now)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class AuditEntry(TenantModel):
    """A change to the business itself rather than to a customer (API keys, settings, tier
    configuration): who made it, when, and what changed. Written by the services."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty for the system (commands, scheduled work)",
    )
    action = models.CharField(max_length=60, help_text="What was done, as thing.verb, e.g. api_key.revoked")
    target = models.CharField(max_length=200, blank=True, help_text="What it was done to, as shown then")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name_plural = "audit entries"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["business", "-created_at"], name="auditentry_recent_idx")]

    def __str__(self):
        return f"{self.action} {self.target}".strip()


# Duplicates and merges ------------------------------------------------------------------


class DuplicateCandidate(TenantModel):
    """A pair of live customers that may be the same person, written by the duplicate scan."""

    class Reason(models.TextChoices):
        SAME_EMAIL = "same_email", "Same email"
        SAME_ACCOUNT_EMAIL = "same_account_email", "Same account email"
        SAME_NAME_AND_ADDRESS = "same_name_and_address", "Same name and address"
        SIMILAR_NAME_SAME_ADDRESS = "similar_name_same_address", "Similar name at the same address"
        SIMILAR_NAME_SAME_CITY = "similar_name_same_city", "Similar name in the same city"
        SAME_DATE_OF_BIRTH = "same_date_of_birth", "Same date of birth"
        PHONE_ONE_DIGIT_APART = "phone_one_digit_apart", "Phones one digit apart, similar name"

    customer_a = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    customer_b = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    reasons = models.JSONField(default=list)
    score = models.PositiveSmallIntegerField(help_text="0-100: how sure the scan is")
    detected_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer_a", "customer_b"], name="duplicate_candidate_unique_pair"
            ),
            models.CheckConstraint(
                condition=models.Q(customer_a__lt=F("customer_b")), name="duplicate_candidate_ordered_pair"
            ),
        ]
        indexes = [
            models.Index(fields=["business", "-score", "id"], name="duplicate_candidate_score_idx"),
            models.Index(fields=["customer_b"], name="duplicate_candidate_b_idx"),
        ]

    def __str__(self):
        return f"#{self.customer_a_id} ~ #{self.customer_b_id} ({self.score})"

    @property
    def reason_labels(self):
        labels = dict(self.Reason.choices)
        return [labels.get(reason, reason) for reason in self.reasons]


class DuplicateDismissal(TenantModel):
    """“Not a duplicate”: the scan never proposes this pair again."""

    customer_a = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    customer_b = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer_a", "customer_b"], name="duplicate_dismissal_unique_pair"
            ),
            models.CheckConstraint(
                condition=models.Q(customer_a__lt=F("customer_b")), name="duplicate_dismissal_ordered_pair"
            ),
        ]

    def __str__(self):
        return f"#{self.customer_a_id} is not #{self.customer_b_id}"


class DuplicateScan(TenantModel):
    """One run of the duplicate scan of a business, so the page can show when and how it went."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    candidates = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self):
        return f"Duplicate scan of {self.requested_at:%Y-%m-%d %H:%M}"

    @property
    def status(self):
        if self.error:
            return "failed"
        if self.finished_at:
            return "done"
        return "running" if self.started_at else "queued"


class MergeRecord(TenantModel):
    """One merge: who, when, why, and everything needed to undo it exactly."""

    UNDO_DAYS = 30

    survivor = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges")
    merged_ids = models.JSONField(help_text="Ids of the customers merged into the survivor")
    reason = models.TextField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    field_choices = models.JSONField(default=dict, help_text="Profile field -> id of the customer kept")
    snapshot = models.JSONField(default=dict, help_text="State before the merge")
    moved = models.JSONField(default=dict, help_text="Model label -> {from customer id: [moved row ids]}")
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["survivor", "-created_at"], name="merge_record_survivor_idx")]

    def __str__(self):
        merged = ", ".join(f"#{pk}" for pk in self.merged_ids)
        return f"Merge of {merged} into #{self.survivor_id}"

    @property
    def undo_deadline(self):
        return self.created_at + timedelta(days=self.UNDO_DAYS)


# Jobs: long work in the background (imports, exports, and whatever other apps register) ----


class JobQuerySet(TenantQuerySet):
    def stale(self, *, before):
        """Running jobs whose worker has not reported since `before`."""
        return self.filter(status=Job.Status.RUNNING, heartbeat_at__lt=before)


def lost_before():
    """A running job whose worker has not reported since this time has lost its worker."""
    return now() - timedelta(seconds=settings.JOB_STALE_SECONDS)


class Job(TenantModel):
    """Long work run in the background with progress a page can show: the one table of every
    kind of job, whose own model adds what its work needs (multi-table inheritance). How an
    app runs its work as a job is told in `customers.jobs`."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True, help_text="Why the job failed or stopped, in words for the user")
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Written by the worker after every chunk; a job whose heartbeat stops is failed by the sweeper.
    heartbeat_at = models.DateTimeField(default=now)
    # The worker stops at its next chunk once this is set.
    cancel_requested_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["business", "-created_at"], name="job_recent_idx"),
            models.Index(fields=["status", "heartbeat_at"], name="job_stale_idx"),
        ]

    def __str__(self):
        return f"Job #{self.pk}"

    @property
    def percent(self):
        if not self.total_rows:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, round(100 * self.rows_done / self.total_rows))

    @property
    def is_lost(self):
        """Running, but its worker stopped reporting (killed or restarted); the sweeper fails it later."""
        return self.status == self.Status.RUNNING and self.heartbeat_at < lost_before()

    @property
    def is_finished(self):
        """Nothing more will happen without a user: done, failed, cancelled, or lost its worker."""
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.CANCELLED) or self.is_lost

    @property
    def can_cancel(self):
        return not self.is_finished and self.cancel_requested_at is None

    @property
    def can_retry(self):
        return self.status in (self.Status.FAILED, self.Status.CANCELLED) or self.is_lost

    @property
    def state_label(self):
        if self.is_lost:
            return "Lost its worker"
        if self.cancel_requested_at and not self.is_finished:
            return "Cancelling"
        return self.get_status_display()


class TableKind(models.TextChoices):
    """What the file of an import or export holds."""

    CUSTOMERS = "customers", "Customers"
    ORDERS = "orders", "Orders"


class ImportJob(Job):
    """An uploaded file: first checked (a dry run), then imported once the user confirms."""

    Kind = TableKind

    class Step(models.TextChoices):
        CHECK = "check", "Check"
        IMPORT = "import", "Import"

    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    encoding = models.CharField(max_length=20, blank=True, help_text="Text encoding of a CSV file")
    valid_only = models.BooleanField(default=False, help_text="Import the valid rows and skip the others")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    step = models.CharField(max_length=10, choices=Step.choices, default=Step.CHECK)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    preview = models.JSONField(default=list, blank=True, help_text="The first rows' outcomes and every error")
    ignored_columns = models.JSONField(default=list, blank=True)
    error_report = models.FileField(upload_to="imports/%Y/%m/", blank=True)

    def __str__(self):
        return f"Import of {self.original_name}"

    @property
    def state_label(self):
        if self.status == self.Status.DONE:
            return "Checked" if self.step == self.Step.CHECK else "Imported"
        if self.is_finished or self.cancel_requested_at:
            return super().state_label
        return "Checking" if self.step == self.Step.CHECK else "Importing"

    @property
    def can_confirm(self):
        checked = self.step == self.Step.CHECK and self.status == self.Status.DONE
        return checked and bool(self.file) and (self.error_count == 0 or self.valid_only)


class BulkActionJob(Job):
    """A bulk action (customers.bulk_actions) on more customers than a request should
    handle: the selection's ids as they were when asked, done chunk by chunk."""

    action = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True, help_text="What the action's form asked")
    customer_ids = models.JSONField(default=list, help_text="The selected customers, when asked")
    result = models.JSONField(default=dict, blank=True, help_text="Changed and skipped, with why")

    def __str__(self):
        return f"Bulk action {self.action}"


class ExportJob(Job):
    Kind = TableKind

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    format = models.CharField(max_length=4, choices=Format.choices)
    filters = models.JSONField(default=dict, blank=True, help_text="The customer list's filters")
    file = models.FileField(upload_to="exports/%Y/%m/", blank=True)

    def __str__(self):
        return f"Export of {self.get_kind_display().lower()} ({self.format})"


# Dashboard summaries ------------------------------------------------------------------
# Kept current by customers.summaries in the transactions that change orders, so that the
# owner's dashboard reads a few hundred rows instead of aggregating every order.


class DailyOrderSummary(TenantModel):
    """One business's orders of one day in the business's time zone, by `placed_at`."""

    day = models.DateField()
    orders = models.IntegerField(default=0, help_text="Completed orders")
    revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0, help_text="Of completed orders")
    refunds = models.IntegerField(default=0, help_text="Orders with status refunded")
    refunded_amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    blocked_orders = models.IntegerField(default=0)
    new_customers = models.IntegerField(
        default=0, help_text="Customers whose first completed order is this day"
    )
    address_changes = models.IntegerField(default=0, help_text="Orders whose address changed mid-delivery")
    # A customer is active on the 90 days from each day with a completed order; their
    # active spells start and end on these days, so that the customers active on a day
    # (for the churn rate) are the starts up to it minus the ends up to it.
    activity_starts = models.IntegerField(default=0, help_text="Customers whose active spell starts this day")
    activity_ends = models.IntegerField(
        default=0, help_text="Customers whose active spell ended the day before"
    )
    updated_at = models.DateTimeField(default=now)
    reconciled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "daily order summaries"
        constraints = [models.UniqueConstraint(fields=["business", "day"], name="daily_summary_one_per_day")]

    def __str__(self):
        return f"{self.day}: {self.orders} orders"


class CohortActivity(TenantModel):
    """How many customers whose first completed order fell in `cohort` (a month, as its
    first day, in the business's time zone) had a completed order in `month`."""

    cohort = models.DateField()
    month = models.DateField()
    customers = models.IntegerField(default=0)

    class Meta:
        verbose_name_plural = "cohort activity"
        constraints = [
            models.UniqueConstraint(
                fields=["business", "cohort", "month"], name="cohort_activity_one_per_cell"
            )
        ]

    def __str__(self):
        return f"{self.cohort:%Y-%m} in {self.month:%Y-%m}: {self.customers}"


class RepeatOrderSummary(TenantModel):
    """One business's completed orders of one day (local, by `placed_at`), by how many
    completed orders their customer had placed before (`ordinal`: 1 the first, 2 the
    second, 3 any later one) and the day of the customer's order just before (the order's
    own day for a first order).

    It makes distinct-customer counts over any range exact without reading the orders: the
    customers active in [start, end] are its orders in the range that are first orders or
    whose previous order came before `start`; the new customers of the range with a second
    order by `end` are its second orders up to `end` whose previous day is in the range."""

    class Ordinal(models.IntegerChoices):
        FIRST = 1
        SECOND = 2
        LATER = 3

    day = models.DateField()
    previous_day = models.DateField()
    ordinal = models.PositiveSmallIntegerField(choices=Ordinal.choices)
    orders = models.IntegerField(default=0)

    class Meta:
        verbose_name_plural = "repeat order summaries"
        constraints = [
            models.UniqueConstraint(
                fields=["business", "day", "ordinal", "previous_day"],
                name="repeat_order_summary_one_per_cell",
            ),
            models.CheckConstraint(
                condition=models.Q(previous_day__lte=models.F("day")), name="repeat_order_previous_day_first"
            ),
        ]

    def __str__(self):
        return f"{self.day} ({self.get_ordinal_display()} after {self.previous_day}): {self.orders}"


class RepeatOrderMonthSummary(TenantModel):
    """RepeatOrderSummary's rows summed per month (local, as its first day): the whole
    months of a long range are read from these, a few rows per previous day instead of one
    per day and previous day."""

    month = models.DateField()
    previous_day = models.DateField()
    ordinal = models.PositiveSmallIntegerField(choices=RepeatOrderSummary.Ordinal.choices)
    orders = models.IntegerField(default=0)

    class Meta:
        verbose_name_plural = "repeat order month summaries"
        constraints = [
            models.UniqueConstraint(
                fields=["business", "month", "ordinal", "previous_day"],
                name="repeat_order_month_one_per_cell",
            ),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} ({self.get_ordinal_display()} after {self.previous_day}): {self.orders}"


# Webhooks ----------------------------------------------------------------------------------


class WebhookEndpoint(TenantModel):
    """A URL of the business that receives its domain events, signed with `secret`."""

    ALL_EVENTS = "*"

    url = models.URLField(max_length=500)
    # Event type names (customers.webhook_events), or ["*"] for every type.
    events = models.JSONField(default=list)
    # Kept as given: every delivery is signed with it (HMAC), so it cannot be stored hashed.
    secret = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    # Set at the first failed attempt after a success; an endpoint failing for a day is disabled.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["business", "active"], name="webhookendpoint_active_idx")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(secret=""), name="webhookendpoint_secret_not_empty"),
        ]

    def __str__(self):
        return self.url

    def wants(self, event_type):
        return self.ALL_EVENTS in self.events or event_type in self.events


class WebhookEvent(TenantModel):
    """The transactional outbox: a domain event, written in the transaction of the change
    that caused it, with one WebhookDelivery per endpoint that wanted it."""

    uid = models.UUIDField(unique=True, editable=False)
    type = models.CharField(max_length=80)
    occurred_at = models.DateTimeField(default=now)
    data = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["occurred_at"], name="webhookevent_occurred_idx")]

    def __str__(self):
        return f"{self.type} {self.uid}"

    def envelope(self):
        return {
            "id": str(self.uid),
            "type": self.type,
            "occurred_at": self.occurred_at.isoformat(),
            "business": self.business_id,
            "data": self.data,
        }


class WebhookDelivery(TenantModel):
    """One event to one endpoint, attempted until delivered or given up (WebhookAttempt each)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    # The customer whose events must arrive in order (None: an event of many customers, or none).
    customer_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-id"]
        indexes = [
            # The worker's claim: due pending deliveries, oldest first.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(status="pending"),
                name="webhookdelivery_due_idx",
            ),
            # Whether an earlier delivery of the same customer to the same endpoint still waits.
            models.Index(
                fields=["endpoint", "customer_id", "id"],
                condition=models.Q(status="pending"),
                name="webhookdelivery_order_idx",
            ),
            # The delivery log of an endpoint, newest first.
            models.Index(fields=["endpoint", "-id"], name="webhookdelivery_log_idx"),
        ]

    def __str__(self):
        return f"Delivery #{self.pk}"


class WebhookAttempt(TenantModel):
    """One HTTP attempt of a delivery, for the delivery log."""

    RESPONSE_EXCERPT_BYTES = 1024

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    attempted_at = models.DateTimeField(default=now)
    succeeded = models.BooleanField(default=False)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    # The first RESPONSE_EXCERPT_BYTES of the answer, or why there was none (timeout, refused address).
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-attempted_at", "-id"]
        indexes = [models.Index(fields=["delivery", "-attempted_at"], name="webhookattempt_delivery_idx")]

    def __str__(self):
        return f"Attempt #{self.pk}"


class WebhookDispatch(models.Model):
    """A delivery task is queued and has not started: at most this one row. A commit that
    wrote events queues a task only if it inserts the row, and the task deletes it before it
    claims, so every commit is seen by a task without each paying for queueing one."""

    requested_at = models.DateTimeField(default=now)

    def __str__(self):
        return f"Delivery requested at {self.requested_at}"
