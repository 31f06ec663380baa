"""seed_demo's segments: the presets with their members computed, and a static segment."""

from customers.models import Customer
from segments.models import Segment
from segments.services.recalculation import run_recalculation
from segments.services.segments import create_segment, ensure_presets
from segments.services.static import add_to_segment

DEMO_STATIC_NAME = "Newsletter panel"
DEMO_STATIC_SIZE = 25


def seed_demo_segments(*, business, actor, rng):
    for _, job in ensure_presets(business=business, actor=actor):
        run_recalculation(job.pk)
    if Segment.objects.live().filter(business=business, name__iexact=DEMO_STATIC_NAME).exists():
        return
    segment, _ = create_segment(
        business=business,
        actor=actor,
        name=DEMO_STATIC_NAME,
        kind=Segment.Kind.STATIC,
        description="Customers who agreed to test the newsletter (hand-picked).",
    )
    live = Customer.objects.filter(business=business).live()
    bounds = list(live.order_by("pk").values_list("pk", flat=True)[:2000])
    picked = rng.sample(bounds, min(DEMO_STATIC_SIZE, len(bounds)))
    add_to_segment(segment=segment, customers=live.filter(pk__in=picked), actor=actor)
