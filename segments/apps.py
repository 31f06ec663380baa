from django.apps import AppConfig
from django.db.models.signals import post_migrate

from customers.signals import (
    customers_merged,
    demo_seeded,
    merge_undone,
    order_recorded,
    order_status_changed,
    orders_imported,
    tags_changed,
)


class SegmentsConfig(AppConfig):
    name = "segments"

    def ready(self):
        # Imported here: the receivers use the models, which are not loaded when this module is.
        from customers import jobs, merge_registry
        from loyalty.signals import tiers_changed
        from segments import receivers, services
        from segments.models import SegmentRecalculation
        from segments.tasks import ensure_schedules

        order_recorded.connect(receivers.note_order, dispatch_uid="segments.order_recorded")
        order_status_changed.connect(receivers.note_order, dispatch_uid="segments.order_status")
        orders_imported.connect(receivers.note_imported_orders, dispatch_uid="segments.orders_imported")
        tiers_changed.connect(receivers.note_customers, dispatch_uid="segments.tiers_changed")
        tags_changed.connect(receivers.note_customers, dispatch_uid="segments.tags_changed")
        customers_merged.connect(receivers.move_memberships, dispatch_uid="segments.merge")
        merge_undone.connect(receivers.give_back_memberships, dispatch_uid="segments.merge_undone")
        demo_seeded.connect(receivers.seed_demo_segments, dispatch_uid="segments.seed_demo")
        # Memberships are kept by a customers_merged receiver (static ones move to the
        # survivor, dynamic ones follow the rules); the join/leave history moves to the
        # survivor (and back on undo); notes waiting for re-evaluation stay, harmless.
        merge_registry.register("segments.SegmentMembership.customer", merge_registry.RECEIVER)
        merge_registry.register("segments.SegmentMembershipEvent.customer", merge_registry.MOVE)
        merge_registry.register("segments.PendingEvaluation.customer", merge_registry.KEEP)
        jobs.register("segment_recalculation", model=SegmentRecalculation, start=services.queue_recalculation)
        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="segments.ensure_schedules")
