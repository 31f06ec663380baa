from django.db import models
from django.utils.timezone import now

from customers.models import Customer, TenantModel

# Customer lifetime value -------------------------------------------------------------


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
