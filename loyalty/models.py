from django.conf import settings
from django.db import models
from django.utils.timezone import now

from customers.models import Business, Customer, Job, TenantModel

Tier = Customer.Tier
# Lowest first: a tier's index is its rank.
TIER_ORDER = [Tier.BRONZE, Tier.SILVER, Tier.GOLD, Tier.PLATINUM]
TIERS_ABOVE_BRONZE = TIER_ORDER[1:]


class Period(models.TextChoices):
    MONTHLY = "monthly", "Last 30 days"
    QUARTERLY = "quarterly", "Last 91 days"
    YEARLY = "yearly", "Last 365 days"
    LIFETIME = "lifetime", "Lifetime"


# A period's rolling window in days; lifetime has none.
PERIOD_DAYS = {Period.MONTHLY: 30, Period.QUARTERLY: 91, Period.YEARLY: 365, Period.LIFETIME: None}


class ThresholdKind(models.TextChoices):
    SPEND = "spend", "Spend"
    VISITS = "visits", "Visits"
    POINTS = "points", "Points earned"


class TierConfiguration(TenantModel):
    """A business's thresholds: `thresholds` is {"silver": {"spend": "100.00" or None,
    "visits": int or None, "points": int or None, "period": "lifetime"}, "gold": ..., "platinum": ...},
    as the API shows it. Changed only by loyalty.services.configure_tiers, which audits it."""

    business = models.OneToOneField(Business, on_delete=models.CASCADE, related_name="tier_configuration")
    thresholds = models.JSONField()
    grace_days = models.PositiveIntegerField(
        default=90, help_text="How long a customer below their tier keeps it"
    )
    updated_at = models.DateTimeField(default=now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self):
        return f"Tier configuration of {self.business}"


class TierConfigAudit(TenantModel):
    """One change of a configuration: old and new (thresholds and grace days), who, when, why."""

    configuration = models.ForeignKey(TierConfiguration, on_delete=models.CASCADE, related_name="audits")
    old = models.JSONField()
    new = models.JSONField()
    reason = models.TextField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["business", "-changed_at", "-id"], name="tierconfigaudit_recent_idx")]

    def __str__(self):
        return f"Tier configuration change of {self.changed_at:%Y-%m-%d %H:%M}"


class TierState(models.Model):
    """What a customer's tier needs beyond `Customer.tier`: since when they are below it (the
    grace) and a manual override. Only customers in grace or overridden have a row."""

    customer = models.OneToOneField(
        Customer, primary_key=True, on_delete=models.CASCADE, related_name="tier_state"
    )
    below_since = models.DateTimeField(
        null=True, blank=True, help_text="First evaluation that found them below their tier"
    )
    override_tier = models.CharField(max_length=10, choices=Tier.choices, blank=True)
    override_reason = models.TextField(blank=True)
    override_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(override_tier="") | ~models.Q(override_reason=""),
                name="tierstate_override_has_reason",
            ),
        ]
        indexes = [
            models.Index(
                fields=["override_expires_at"],
                condition=models.Q(override_expires_at__isnull=False),
                name="tierstate_override_expiry_idx",
            ),
        ]

    def __str__(self):
        return f"Tier state of customer {self.customer_id}"


class RollingFigures(models.Model):
    """A customer's completed orders over the rolling periods (spend and visits of the last 30,
    91 and 365 days), so that evaluating a million customers reads one narrow row each instead
    of aggregating their orders. Written only by loyalty.tiers.refresh_figures: for every
    customer by each full recalculation, for one customer after their orders change. Lifetime
    figures are the customer's own stats."""

    customer = models.OneToOneField(
        Customer, primary_key=True, on_delete=models.CASCADE, related_name="rolling_figures"
    )
    spend_monthly = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    visits_monthly = models.PositiveIntegerField(default=0)
    spend_quarterly = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    visits_quarterly = models.PositiveIntegerField(default=0)
    spend_yearly = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    visits_yearly = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(help_text="The moment the periods end at, when last changed")

    def __str__(self):
        return f"Rolling figures of customer {self.customer_id}"


class TierChange(TenantModel):
    class Cause(models.TextChoices):
        RECALCULATION = "recalculation", "Recalculation"
        ORDER = "order", "Order"
        GRACE_ENDED = "grace_ended", "Grace period ended"
        OVERRIDE = "override", "Manual override"
        OVERRIDE_EXPIRED = "override_expired", "Override expired"
        MERGE = "merge", "Merge"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tier_changes")
    from_tier = models.CharField(max_length=10, choices=Tier.choices)
    to_tier = models.CharField(max_length=10, choices=Tier.choices)
    cause = models.CharField(max_length=20, choices=Cause.choices)
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["customer", "-changed_at"], name="tierchange_customer_idx")]

    def __str__(self):
        return f"{self.from_tier} → {self.to_tier}"


class TierRecalculation(Job):
    """A recalculation of every customer of a business (customers.jobs)."""

    reason = models.CharField(
        max_length=200, blank=True, help_text="Why it runs: a configuration change, nightly, on demand"
    )

    def __str__(self):
        return "Tier recalculation"


class LifetimeValueFit(TenantModel):
    """One fit of a business's lifetime value model, as of a date: the parameters of
    BG/NBD (time in days) and Gamma-Gamma, or none for the simple estimate."""

    as_of = models.DateField(help_text="Only completed orders up to this day count; ages are measured to it")
    fitted_at = models.DateTimeField(default=now)
    model_version = models.CharField(max_length=40)
    note = models.TextField(blank=True, help_text="Why the simple estimate was used, in words")
    customers = models.PositiveIntegerField(help_text="Customers with a completed order up to the as-of date")
    repeat_customers = models.PositiveIntegerField(help_text="Of them, with a repeat order")
    r = models.FloatField(null=True, blank=True)
    alpha = models.FloatField(null=True, blank=True, help_text="In days")
    a = models.FloatField(null=True, blank=True)
    b = models.FloatField(null=True, blank=True)
    log_likelihood = models.FloatField(null=True, blank=True, help_text="Of the BG/NBD fit")
    p = models.FloatField(null=True, blank=True)
    q = models.FloatField(null=True, blank=True)
    gamma = models.FloatField(null=True, blank=True)
    gamma_gamma_customers = models.PositiveIntegerField(null=True, blank=True)
    gamma_gamma_log_likelihood = models.FloatField(null=True, blank=True)
    figures = models.JSONField(
        default=list,
        blank=True,
        help_text="Per tier as of the fit: customers valued, mean current and predicted value, total "
        "predicted, customers per value band (loyalty.queries.value_figures)",
    )

    class Meta:
        ordering = ["-fitted_at", "-id"]
        indexes = [models.Index(fields=["business", "-fitted_at", "-id"], name="clv_fit_recent_idx")]

    def __str__(self):
        return f"{self.model_version} as of {self.as_of}"


class CustomerLifetimeValue(TenantModel):
    """A customer's value from the latest fit of their business: net revenue up to its as-of
    date and what the model expects of the next 365 days. Rewritten whole by every fit."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="lifetime_value")
    current = models.DecimalField(
        max_digits=14, decimal_places=2, help_text="Net revenue up to the as-of date"
    )
    predicted_365d = models.DecimalField(max_digits=14, decimal_places=2)
    expected_orders_365d = models.FloatField()
    probability_alive = models.FloatField(null=True, blank=True, help_text="Empty for the simple estimate")
    model_version = models.CharField(max_length=40)
    calculated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(predicted_365d__gte=0, expected_orders_365d__gte=0),
                name="clv_predictions_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(probability_alive__gte=0, probability_alive__lte=1)
                | models.Q(probability_alive__isnull=True),
                name="clv_probability_alive_is_a_probability",
            ),
        ]

    def __str__(self):
        return f"CLV of customer #{self.customer_id}"


class PointsRule(TenantModel):
    """How a business's customers earn points: `points_per_unit` for each 1.00 of a completed
    order (rounded down), optionally expiring after `expiry_months`. Changed only by
    loyalty.services.configure_points_rule, which audits it."""

    business = models.OneToOneField(Business, on_delete=models.CASCADE, related_name="points_rule")
    points_per_unit = models.DecimalField(
        max_digits=8, decimal_places=2, default=1, help_text="Points for each 1.00 spent (0: none)"
    )
    expiry_months = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Points expire this many months after they were earned; empty: never"
    )
    updated_at = models.DateTimeField(default=now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points_per_unit__gte=0), name="pointsrule_rate_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(expiry_months__isnull=True) | models.Q(expiry_months__gte=1),
                name="pointsrule_expiry_at_least_a_month",
            ),
        ]

    def __str__(self):
        return f"Points rule of {self.business}"


class PointsEntry(TenantModel):
    """One line of a customer's points ledger, never changed once written: the customer's
    `points_balance` is the sum of their entries' points, kept so by loyalty.services."""

    class Kind(models.TextChoices):
        EARN = "earn", "Earned"
        REVERSE = "reverse", "Reversed"
        ADJUST = "adjust", "Adjusted"
        REDEEM = "redeem", "Redeemed"
        EXPIRE = "expire", "Expired"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="points_entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    points = models.IntegerField(help_text="Positive adds to the balance, negative takes from it")
    order = models.ForeignKey(
        "customers.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="points_entries"
    )
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="When these points expire (points added under an expiry rule)"
    )

    class Meta:
        verbose_name_plural = "points entries"
        ordering = ["-created_at", "-id"]
        permissions = [("adjust_points", "Can adjust customers' points by hand")]
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(kind="earn"), name="pointsentry_order_earns_once"
            ),
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(kind="reverse"), name="pointsentry_order_reversed_once"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=["earn", "reverse"]) | models.Q(order__isnull=False),
                name="pointsentry_earn_and_reverse_have_an_order",
            ),
            # Earning adds, an adjustment adds or takes, everything else takes.
            models.CheckConstraint(
                condition=models.Q(kind="earn", points__gt=0)
                | (models.Q(kind="adjust") & ~models.Q(points=0))
                | models.Q(kind__in=["reverse", "redeem", "expire"], points__lt=0),
                name="pointsentry_sign_follows_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at", "-id"], name="pointsentry_customer_idx"),
            models.Index(fields=["business", "kind", "created_at"], name="pointsentry_kind_time_idx"),
            models.Index(
                fields=["expires_at"],
                condition=models.Q(expires_at__isnull=False),
                name="pointsentry_expiry_idx",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.points:+d}"
