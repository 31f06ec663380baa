from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.timezone import now

from customers.models import ApiKey, Customer, Job, TenantModel, TrigramIndex

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
        ANONYMIZATION = "anonymization", "Anonymization"

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


# Access log, exports and anonymization ----------------------------------------------------


class Regulation(models.TextChoices):
    """The law a data-subject request is made under; it sets the legal due date."""

    GDPR = "GDPR", "GDPR (one month)"
    CCPA = "CCPA", "CCPA (45 days)"


def legal_due_date(regulation, requested_at):
    """GDPR Art. 12(3): one month (taken as 30 days); CCPA §1798.130: 45 days."""
    return requested_at + timedelta(days=45 if regulation == Regulation.CCPA else 30)


class AccessLog(TenantModel):
    """Who read or exported which customers' personal data, from where, when. Append-only:
    nothing in the product changes or deletes a row, and on PostgreSQL a trigger refuses
    UPDATE and DELETE (the one exception: anonymization blanks the `query` of an entry that
    holds the person's name or phone, and changes nothing else)."""

    class What(models.TextChoices):
        PROFILE_VIEWED = "profile_viewed", "Profile viewed"
        LIST_VIEWED = "list_viewed", "Customer list viewed"
        LIST_EXPORTED = "list_exported", "Customer list export downloaded"
        ADMIN_VIEWED = "admin_viewed", "Customer opened in the admin"
        DATA_EXPORT_DOWNLOADED = "data_export_downloaded", "Data export downloaded"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # ",12,34," so that one trigram index answers "entries about customer 12" on both databases.
    customer_ids = models.TextField(blank=True, default="")
    customer_count = models.PositiveIntegerField(default=0)
    what = models.CharField(max_length=30, choices=What.choices)
    query = models.TextField(blank=True, help_text="The list's search and filters, as the URL had them")
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["business", "-at", "-id"], name="accesslog_recent_idx"),
            TrigramIndex(fields=["customer_ids"], name="accesslog_customer_trgm"),
        ]

    def __str__(self):
        return f"{self.get_what_display()} at {self.at:%Y-%m-%d %H:%M}"

    @staticmethod
    def ids_text(customer_ids):
        return f",{','.join(str(pk) for pk in customer_ids)}," if customer_ids else ""

    @property
    def customer_id_list(self):
        return [int(pk) for pk in self.customer_ids.strip(",").split(",") if pk]


class DataExport(TenantModel):
    """A data-subject access request (GDPR Art. 15/20, CCPA right to know): a ZIP of what the
    product holds about one customer, built by a job and kept for FILE_DAYS."""

    FILE_DAYS = 30
    LINK_SECONDS = 300

    class Type(models.TextChoices):
        GDPR_FULL = "GDPR_FULL", "Everything (GDPR/CCPA full)"
        GDPR_BASIC = "GDPR_BASIC", "Profile and orders"
        BUSINESS_ANALYTICS = "BUSINESS_ANALYTICS", "De-identified aggregates"

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        PROCESSING = "PROCESSING", "Processing"
        COMPLETED = "COMPLETED", "Completed"
        FAILED = "FAILED", "Failed"
        EXPIRED = "EXPIRED", "Expired"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=20, choices=Type.choices)
    regulation = models.CharField(max_length=4, choices=Regulation.choices, default=Regulation.GDPR)
    reason = models.TextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty for the API key",
    )
    created_at = models.DateTimeField(default=now)
    subject_requested_at = models.DateTimeField(
        help_text="When the person asked; the due date counts from it"
    )
    due_at = models.DateTimeField()
    needs_approval = models.BooleanField(default=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to="data-exports/%Y/%m/", blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["business", "status", "due_at"], name="dataexport_queue_idx"),
            models.Index(fields=["customer", "-created_at"], name="dataexport_customer_idx"),
            models.Index(
                fields=["expires_at"],
                condition=models.Q(status="COMPLETED"),
                name="dataexport_expiry_idx",
            ),
        ]

    def __str__(self):
        return f"{self.get_type_display()} export #{self.pk}"

    @property
    def is_open(self):
        return self.status in (self.Status.PENDING, self.Status.PROCESSING)

    @property
    def awaits_approval(self):
        return self.needs_approval and self.approved_at is None and self.status == self.Status.PENDING

    @property
    def is_overdue(self):
        return self.is_open and self.due_at < now()


class DataExportJob(Job):
    """The job that builds a DataExport's file (customers.jobs)."""

    export = models.OneToOneField(DataExport, on_delete=models.CASCADE, related_name="job")

    def __str__(self):
        return f"Data export #{self.export_id}"


class AnonymizationRequest(TenantModel):
    """A right-to-be-forgotten request: asked by support or compliance (or the retention
    policy), approved by a compliance officer who did not ask (four eyes), then executed."""

    class Source(models.TextChoices):
        CUSTOMER_REQUEST = "customer_request", "Customer request"
        RETENTION = "retention", "Retention policy"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved, running"
        REJECTED = "rejected", "Rejected"
        DONE = "done", "Anonymized"
        FAILED = "failed", "Failed"

    OPEN_STATUSES = [Status.REQUESTED, Status.APPROVED, Status.FAILED]

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.CUSTOMER_REQUEST)
    regulation = models.CharField(max_length=4, choices=Regulation.choices, default=Regulation.GDPR)
    reason = models.TextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty for the API key and the retention policy",
    )
    created_at = models.DateTimeField(default=now)
    subject_requested_at = models.DateTimeField()
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            # Four eyes: whoever asked does not approve.
            models.CheckConstraint(
                condition=models.Q(decided_by__isnull=True)
                | models.Q(requested_by__isnull=True)
                | ~models.Q(decided_by=models.F("requested_by")),
                name="anonymization_four_eyes",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="rejected") | ~models.Q(rejection_reason=""),
                name="anonymization_rejection_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["business", "status", "due_at"], name="anonymization_queue_idx"),
            models.Index(fields=["customer", "status"], name="anonymization_customer_idx"),
        ]

    def __str__(self):
        return f"Anonymization request #{self.pk}"

    @property
    def is_overdue(self):
        return self.status in self.OPEN_STATUSES and self.due_at < now()


class AnonymizationJob(Job):
    """The job that executes an approved AnonymizationRequest (customers.jobs)."""

    request = models.OneToOneField(AnonymizationRequest, on_delete=models.CASCADE, related_name="job")

    def __str__(self):
        return f"Anonymization #{self.request_id}"


class RetentionRule(TenantModel):
    """A business's optional rule: customers without an order for `inactive_years` are put up
    for review as anonymization requests of source retention."""

    inactive_years = models.PositiveSmallIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["business"], name="retentionrule_one_per_business")]

    def __str__(self):
        return f"Retention rule of business {self.business_id}"
