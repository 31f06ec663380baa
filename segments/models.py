from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.timezone import now

from customers.models import Customer, Job, TenantModel


class SegmentQuerySet(models.QuerySet):
    def live(self):
        """Segments shown anywhere: not soft-deleted."""
        return self.filter(deleted_at__isnull=True)

    def dynamic(self):
        return self.filter(kind=Segment.Kind.DYNAMIC)


class Segment(TenantModel):
    """A business's audience: `dynamic` members are those its `rules` match (the grammar of
    segments.rules), kept by recalculations and by the incremental updates after events;
    `static` members are added and removed by hand. Changed only through segments.services."""

    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", "Dynamic (rules)"
        STATIC = "static", "Static (hand-picked)"

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.DYNAMIC)
    rules = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True, help_text="Inactive segments are not recalculated")
    # The preset this segment was created from (segments.presets), so each is created once.
    preset = models.CharField(max_length=30, blank=True)
    # Rules relative to now ("no order in the last 30 days") change without any event: such
    # segments are recalculated hourly, the others nightly. Set by the services from the rules.
    time_relative = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)
    last_recalculated_at = models.DateTimeField(null=True, blank=True)
    member_count = models.PositiveIntegerField(default=0)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = SegmentQuerySet.as_manager()

    class Meta:
        ordering = [Lower("name"), "id"]
        constraints = [
            models.UniqueConstraint(
                "business",
                Lower("name"),
                condition=models.Q(deleted_at__isnull=True),
                name="segment_name_unique_per_business",
            ),
            models.UniqueConstraint(
                fields=["business", "preset"],
                condition=models.Q(deleted_at__isnull=True) & ~models.Q(preset=""),
                name="segment_preset_once_per_business",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["dynamic", "static"]), name="segment_kind_known"
            ),
        ]
        indexes = [
            models.Index(
                "business",
                Lower("name"),
                condition=models.Q(deleted_at__isnull=True),
                name="segment_list_idx",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_static(self):
        return self.kind == self.Kind.STATIC


class SegmentMembership(models.Model):
    """A customer in a segment, since when."""

    # No index of their own: the two below serve both (each one more to write per member).
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships", db_index=False)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="segment_memberships", db_index=False
    )
    since = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "customer"], name="segment_member_once"),
        ]
        # The unique index serves a segment's members by customer id (the members page, the
        # API's cursor and the recalculation's diff); this one the customer's segments.
        indexes = [models.Index(fields=["customer"], name="segmentmembership_customer_idx")]

    def __str__(self):
        return f"{self.customer_id} in {self.segment_id}"


class SegmentMembershipEvent(models.Model):
    """Append-only history of joins and leaves."""

    class Kind(models.TextChoices):
        JOINED = "joined", "Joined"
        LEFT = "left", "Left"

    class Cause(models.TextChoices):
        RECALCULATION = "recalculation", "Recalculation"
        EVENT = "event", "Event"
        MANUAL = "manual", "Manual"

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="events")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="segment_events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    cause = models.CharField(max_length=20, choices=Cause.choices)
    at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["segment", "-at", "-id"], name="segmentevent_segment_idx"),
            models.Index(fields=["customer"], name="segmentevent_customer_idx"),
        ]

    def __str__(self):
        return f"{self.customer_id} {self.kind} {self.segment_id}"


class SegmentSnapshot(models.Model):
    """A segment's size at the end of a day, for the size-over-time chart."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="snapshots")
    date = models.DateField()
    member_count = models.PositiveIntegerField()

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "date"], name="segment_snapshot_once_a_day")
        ]

    def __str__(self):
        return f"{self.segment_id} on {self.date}: {self.member_count}"


class PendingEvaluation(models.Model):
    """A customer an event may have moved in or out of dynamic segments, waiting for the
    next batch (segments.services.incremental). Rows are written set-based by the receivers,
    so an order pays one INSERT, and deleted by the batch that evaluates them."""

    business = models.ForeignKey("customers.Business", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=now)

    def __str__(self):
        return f"Customer {self.customer_id} to re-evaluate"


class SegmentRecalculation(Job):
    """A full recalculation of one segment (customers.jobs)."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="recalculations")
    reason = models.CharField(max_length=200, blank=True)
    joined = models.PositiveIntegerField(default=0)
    left = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"Recalculation of {self.segment}"
