from django.conf import settings
from django.db import models
from django.utils.timezone import now

from customers.models import Customer, TenantModel

# Preferences and consent ---------------------------------------------------------------


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    PUSH = "push", "Push"
    # A purpose's consent (promotions, surveys...) holds on whichever channel may be used.
    ANY = "any", "Any channel"


class Purpose(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    PROMOTIONS = "promotions", "Promotional offers"
    NEWSLETTER = "newsletter", "Newsletter"
    SURVEYS = "surveys", "Surveys"
    LOYALTY = "loyalty", "Loyalty updates"
    RECEIPTS = "receipts", "Transaction receipts"


# Each consent field of a preference record (in seed 004's order) is the consent to one
# purpose on one channel: its changes are the ConsentEvents of that pair.
CONSENT_FIELDS = {
    "email_marketing": (Purpose.MARKETING, Channel.EMAIL),
    "sms_marketing": (Purpose.MARKETING, Channel.SMS),
    "push_notifications": (Purpose.MARKETING, Channel.PUSH),
    "loyalty_updates": (Purpose.LOYALTY, Channel.ANY),
    "transaction_receipts": (Purpose.RECEIPTS, Channel.ANY),
    "promotional_offers": (Purpose.PROMOTIONS, Channel.ANY),
    "survey_invitations": (Purpose.SURVEYS, Channel.ANY),
    "newsletter_subscription": (Purpose.NEWSLETTER, Channel.ANY),
}
FIELD_OF_CONSENT = {pair: name for name, pair in CONSENT_FIELDS.items()}
LABELS = {
    "email_marketing": "Email marketing",
    "sms_marketing": "SMS marketing",
    "push_notifications": "Push notifications",
    "promotional_offers": "Promotional offers",
    "newsletter_subscription": "Newsletter",
    "survey_invitations": "Survey invitations",
    "loyalty_updates": "Loyalty updates",
    "transaction_receipts": "Transaction receipts",
    "frequency": "Frequency",
    "preferred_channel": "Preferred channel",
    "timezone": "Time zone",
    "quiet_hours_start": "Quiet hours start",
    "quiet_hours_end": "Quiet hours end",
}
# The marketing channels: off for a new customer unless the business says its customers
# opted in at sign-up (PrivacySettings), with an event of source "signup" as the evidence.
MARKETING_CHANNEL_FIELDS = ["email_marketing", "sms_marketing", "push_notifications"]
# What a customer without a preference record has: seed 004's defaults, marketing channels
# off. The purposes on by default only narrow a channel's consent (promotions go out on a
# channel the customer opted in to) or are service messages (loyalty updates, receipts).
DEFAULTS = {
    "email_marketing": False,
    "sms_marketing": False,
    "push_notifications": False,
    "loyalty_updates": True,
    "transaction_receipts": True,
    "promotional_offers": True,
    "survey_invitations": False,
    "newsletter_subscription": False,
}


class PrivacySettings(TenantModel):
    """A business's privacy settings: whether its customers opted in to marketing when they
    signed up, on which channels, and the wording they were shown (the evidence of that
    consent)."""

    signup_email_marketing = models.BooleanField("Email marketing", default=False)
    signup_sms_marketing = models.BooleanField("SMS marketing", default=False)
    signup_push_notifications = models.BooleanField("Push notifications", default=False)
    signup_wording = models.TextField(
        blank=True, help_text="What customers are shown when they opt in at sign-up, word for word"
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "privacy settings"
        constraints = [
            models.UniqueConstraint(fields=["business"], name="privacy_settings_one_per_business"),
            models.CheckConstraint(
                condition=models.Q(
                    signup_email_marketing=False, signup_sms_marketing=False, signup_push_notifications=False
                )
                | ~models.Q(signup_wording=""),
                name="privacy_settings_signup_opt_in_has_wording",
            ),
        ]

    def __str__(self):
        return f"Privacy settings of {self.business}"

    @property
    def signup_fields(self):
        """The consent fields a customer signing up is opted in to."""
        return [name for name in MARKETING_CHANNEL_FIELDS if getattr(self, f"signup_{name}")]


class CommunicationPreference(TenantModel):
    """A customer's communication preferences (seed 004). Every value of a consent field
    has a ConsentEvent behind it, written by privacy.services in the same transaction."""

    class Frequency(models.TextChoices):
        IMMEDIATE = "IMMEDIATE", "Immediately"
        DAILY_DIGEST = "DAILY_DIGEST", "Daily digest"
        WEEKLY_DIGEST = "WEEKLY_DIGEST", "Weekly digest"

    class PreferredChannel(models.TextChoices):
        EMAIL = "EMAIL", "Email"
        SMS = "SMS", "SMS"
        PUSH = "PUSH", "Push"

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, related_name="communication_preference"
    )
    email_marketing = models.BooleanField(default=DEFAULTS["email_marketing"])
    sms_marketing = models.BooleanField("SMS marketing", default=DEFAULTS["sms_marketing"])
    push_notifications = models.BooleanField(default=DEFAULTS["push_notifications"])
    loyalty_updates = models.BooleanField(default=DEFAULTS["loyalty_updates"])
    transaction_receipts = models.BooleanField(default=DEFAULTS["transaction_receipts"])
    promotional_offers = models.BooleanField(default=DEFAULTS["promotional_offers"])
    survey_invitations = models.BooleanField(default=DEFAULTS["survey_invitations"])
    newsletter_subscription = models.BooleanField(default=DEFAULTS["newsletter_subscription"])
    frequency = models.CharField(max_length=20, choices=Frequency.choices, default=Frequency.IMMEDIATE)
    preferred_channel = models.CharField(
        max_length=10, choices=PreferredChannel.choices, default=PreferredChannel.EMAIL
    )
    timezone = models.CharField(
        max_length=64, blank=True, help_text="IANA name; empty means the customer's, else the business's"
    )
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quiet_hours_start__isnull=True, quiet_hours_end__isnull=True)
                | models.Q(quiet_hours_start__isnull=False, quiet_hours_end__isnull=False),
                name="preference_quiet_hours_both_or_neither",
            ),
        ]

    def __str__(self):
        return f"Preferences of customer #{self.customer_id}"


class ConsentEvent(TenantModel):
    """One grant or withdrawal of a consent: the proof of consent. Append-only: on
    PostgreSQL a trigger (migration 0001_preferences) refuses every UPDATE but a merge's
    re-pointing of `customer`, and every DELETE."""

    class Action(models.TextChoices):
        GRANTED = "granted", "Granted"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Source(models.TextChoices):
        STAFF = "staff", "Staff"
        API = "api", "API"
        CHECKOUT = "checkout", "Order checkout"
        IMPORT = "import", "Import"
        CUSTOMER_REQUEST = "customer_request", "Customer request"
        SIGNUP = "signup", "Sign-up"
        MERGE = "merge", "Merge"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consent_events")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    action = models.CharField(max_length=10, choices=Action.choices)
    source = models.CharField(max_length=20, choices=Source.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    evidence = models.TextField(blank=True, help_text="The wording shown to the customer, or what they said")
    reference = models.CharField(
        max_length=200, blank=True, help_text="Where it came from: an order, an import, a merge"
    )
    at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-at", "-id"], name="consent_customer_recent_idx"),
            models.Index(fields=["business", "-at", "-id"], name="consent_business_recent_idx"),
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} by {self.get_channel_display()}: {self.get_action_display()}"

    @property
    def field(self):
        return FIELD_OF_CONSENT.get((self.purpose, self.channel))
