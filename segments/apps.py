from datetime import time

from django.apps import AppConfig

from customers.signals import (
    customer_anonymized,
    customers_merged,
    demo_seeded,
    merge_undone,
    order_recorded,
    order_status_changed,
    orders_imported,
    orders_recorded,
    tags_changed,
)


class SegmentsConfig(AppConfig):
    name = "segments"

    def ready(self):
        # Imported here: the receivers use the models, which are not loaded when this module is.
        from customers import (
            bulk_actions,
            jobs,
            list_filters,
            merge_registry,
            profile_panels,
            schedules,
            webhook_events,
        )
        from customers.api import profile_sections, schemas
        from loyalty.signals import tiers_changed
        from segments import queries, receivers, services, views
        from segments.forms import StaticSegmentForm
        from segments.models import SegmentRecalculation

        order_recorded.connect(receivers.note_order, dispatch_uid="segments.order_recorded")
        order_status_changed.connect(receivers.note_order, dispatch_uid="segments.order_status")
        orders_imported.connect(receivers.note_imported_orders, dispatch_uid="segments.orders_imported")
        orders_recorded.connect(receivers.note_imported_orders, dispatch_uid="segments.orders_recorded")
        tiers_changed.connect(receivers.note_customers, dispatch_uid="segments.tiers_changed")
        tags_changed.connect(receivers.note_customers, dispatch_uid="segments.tags_changed")
        customer_anonymized.connect(receivers.note_anonymized, dispatch_uid="segments.anonymized")
        customers_merged.connect(receivers.move_memberships, dispatch_uid="segments.merge")
        merge_undone.connect(receivers.give_back_memberships, dispatch_uid="segments.merge_undone")
        demo_seeded.connect(receivers.seed_demo_segments, dispatch_uid="segments.seed_demo")
        # Memberships are kept by a customers_merged receiver (static ones move to the
        # survivor, dynamic ones follow the rules); the join/leave history moves to the
        # survivor (and back on undo); notes waiting for re-evaluation stay, harmless.
        merge_registry.register("segments.SegmentMembership.customer", merge_registry.RECEIVER)
        merge_registry.register("segments.SegmentMembershipEvent.customer", merge_registry.MOVE)
        merge_registry.register("segments.PendingEvaluation.customer", merge_registry.KEEP)
        for name, description in [
            ("customers.segment.assigned", "Customers joined a segment"),
            ("customers.segment.unassigned", "Customers left a segment"),
        ]:
            example = {"customer_ids": [7, 8], "segment_id": 2, "cause": "event"}
            webhook_events.register(name, description, example=example)
        jobs.register("segment_recalculation", model=SegmentRecalculation, start=services.queue_recalculation)
        profile_panels.register("segments/profile_panel.html", views.profile_panel, order=20)
        profile_sections.register(
            "segments",
            schema=schemas.array(
                schemas.obj({"id": schemas.ID, "name": schemas.STRING, "since": schemas.DATETIME})
            ),
            load=queries.segments_by_customer,
        )
        list_filters.register(
            "segment", label="Segment", choices=queries.segment_choices, apply=queries.filter_by_segment
        )
        for key, label, run, order in [
            ("add_to_segment", "Add to a static segment", services.add_to_static_segment, 20),
            ("remove_from_segment", "Remove from a static segment", services.remove_from_static_segment, 21),
        ]:
            bulk_actions.register(
                key,
                label=label,
                permission="customers.use_segments",
                form=StaticSegmentForm,
                run=run,
                order=order,
            )
        schedules.register(
            "Segments: re-evaluate customers after events", "segments.tasks.evaluate_pending", minutes=1
        )
        schedules.register(
            "Segments: hourly recalculation of time-relative segments",
            "segments.tasks.recalculate_hourly",
            minutes=60,
        )
        schedules.register(
            "Segments: nightly recalculation", "segments.tasks.recalculate_nightly", daily_at=time(2, 45)
        )
        schedules.register(
            "Segments: daily size snapshots", "segments.tasks.take_snapshots", daily_at=time(23, 50)
        )
