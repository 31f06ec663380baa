from datetime import time

from django.apps import AppConfig

from customers.signals import (
    customers_merged,
    demo_seeded,
    merge_undone,
    order_recorded,
    order_status_changed,
    orders_imported,
    orders_recorded,
)


class LoyaltyConfig(AppConfig):
    name = "loyalty"

    def ready(self):
        # Imported here: the receivers use the models, which are not loaded when this module is.
        from customers import bulk_actions, jobs, merge_registry, profile_panels, schedules, webhook_events
        from loyalty import receivers, services, views
        from loyalty.models import TierRecalculation

        customers_merged.connect(receivers.merge_tiers, dispatch_uid="loyalty.merge")
        merge_undone.connect(receivers.give_back_tiers, dispatch_uid="loyalty.merge_undone")
        customers_merged.connect(receivers.merge_points, dispatch_uid="loyalty.points.merge")
        merge_undone.connect(receivers.give_back_points, dispatch_uid="loyalty.points.merge_undone")
        # The points receivers come before the tier ones (receivers run in the order they were
        # connected): a points threshold then counts the points of the order just recorded.
        order_recorded.connect(receivers.earn_after_order, dispatch_uid="loyalty.points.order_recorded")
        order_status_changed.connect(
            receivers.points_after_status_change, dispatch_uid="loyalty.points.order_status"
        )
        orders_imported.connect(receivers.earn_after_import, dispatch_uid="loyalty.points.orders_imported")
        orders_recorded.connect(receivers.earn_after_import, dispatch_uid="loyalty.points.orders_recorded")
        demo_seeded.connect(receivers.seed_demo_points, dispatch_uid="loyalty.points.seed_demo")
        order_recorded.connect(receivers.upgrade_after_order, dispatch_uid="loyalty.order_recorded")
        order_status_changed.connect(
            receivers.reevaluate_after_status_change, dispatch_uid="loyalty.order_status"
        )
        orders_imported.connect(receivers.upgrade_after_import, dispatch_uid="loyalty.orders_imported")
        orders_recorded.connect(receivers.upgrade_after_import, dispatch_uid="loyalty.orders_recorded")
        demo_seeded.connect(receivers.seed_demo_loyalty, dispatch_uid="loyalty.seed_demo")
        # A merged customer's tier history moves to the survivor (and back on undo); its tier
        # state (grace, override) is its own, one row per customer, and stays with it. Its
        # lifetime value stays with it too; the next fit values the survivor on the orders it
        # then holds.
        merge_registry.register("loyalty.TierChange.customer", merge_registry.MOVE)
        # The ledger moves to the survivor, and back on undo; the points receivers then set
        # each balance to its ledger's sum.
        merge_registry.register("loyalty.PointsEntry.customer", merge_registry.MOVE)
        merge_registry.register("loyalty.TierState.customer", merge_registry.KEEP)
        merge_registry.register("loyalty.CustomerLifetimeValue.customer", merge_registry.KEEP)
        # Rolling figures are computed from a customer's orders: each customer keeps its row,
        # and the merge and undo receivers recompute them from the orders each then holds.
        merge_registry.register("loyalty.RollingFigures.customer", merge_registry.KEEP)
        profile_panels.register("loyalty/profile_panel.html", views.profile_panel, order=10)
        # The override page takes the list's selection (ids or filter) as its query string.
        bulk_actions.register(
            "override_tier",
            label="Override the tier",
            permission="customers.use_loyalty",
            url="loyalty:bulk_override",
            order=30,
        )
        example = {"changes": [{"customer_id": 7, "from": "BRONZE", "to": "SILVER"}]}
        webhook_events.register("customers.tier.upgraded", "Customers moved up a tier", example=example)
        example = {"changes": [{"customer_id": 7, "from": "SILVER", "to": "BRONZE"}]}
        webhook_events.register("customers.tier.downgraded", "Customers moved down a tier", example=example)
        jobs.register("tier_recalculation", model=TierRecalculation, start=services.queue_recalculation)
        schedules.register(
            "Nightly tier recalculation", "loyalty.tasks.recalculate_tiers_everywhere", daily_at=time(3, 15)
        )
        schedules.register("Expire tier overrides", "loyalty.tasks.expire_overrides", minutes=15)
        schedules.register(
            "Nightly customer lifetime value fit",
            "loyalty.tasks.fit_lifetime_values_everywhere",
            daily_at=time(3, 30),
        )
        schedules.register("Expire loyalty points", "loyalty.tasks.expire_points", daily_at=time(2, 45))
