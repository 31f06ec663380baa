from django.apps import AppConfig
from django.db.models.signals import post_migrate

from customers.signals import (
    customers_merged,
    demo_seeded,
    merge_undone,
    order_recorded,
    order_status_changed,
    orders_imported,
)


class LoyaltyConfig(AppConfig):
    name = "loyalty"

    def ready(self):
        # Imported here: the receivers use the models, which are not loaded when this module is.
        from customers import jobs, merge_registry, profile_panels
        from loyalty import receivers, services, views
        from loyalty.models import TierRecalculation
        from loyalty.tasks import ensure_nightly_clv_fit, ensure_schedules

        customers_merged.connect(receivers.merge_tiers_and_points, dispatch_uid="loyalty.merge")
        merge_undone.connect(receivers.give_back_tiers_and_points, dispatch_uid="loyalty.merge_undone")
        order_recorded.connect(receivers.upgrade_after_order, dispatch_uid="loyalty.order_recorded")
        order_status_changed.connect(
            receivers.reevaluate_after_status_change, dispatch_uid="loyalty.order_status"
        )
        orders_imported.connect(receivers.upgrade_after_import, dispatch_uid="loyalty.orders_imported")
        demo_seeded.connect(receivers.seed_demo_loyalty, dispatch_uid="loyalty.seed_demo")
        # A merged customer's tier history moves to the survivor (and back on undo); its tier
        # state (grace, override) is its own, one row per customer, and stays with it. Its
        # lifetime value stays with it too; the next fit values the survivor on the orders it
        # then holds.
        merge_registry.register("loyalty.TierChange.customer", merge_registry.MOVE)
        merge_registry.register("loyalty.TierState.customer", merge_registry.KEEP)
        merge_registry.register("loyalty.CustomerLifetimeValue.customer", merge_registry.KEEP)
        # Rolling figures are computed from a customer's orders: each customer keeps its row,
        # and the merge and undo receivers recompute them from the orders each then holds.
        merge_registry.register("loyalty.RollingFigures.customer", merge_registry.KEEP)
        profile_panels.register("loyalty/profile_panel.html", views.profile_panel, order=10)
        jobs.register("tier_recalculation", model=TierRecalculation, start=services.queue_recalculation)
        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="loyalty.ensure_schedules")
        post_migrate.connect(
            ensure_nightly_clv_fit, sender=self, dispatch_uid="loyalty.ensure_nightly_clv_fit"
        )
