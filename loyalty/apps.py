from django.apps import AppConfig
from django.db.models.signals import post_migrate

from customers.signals import customers_merged, merge_undone


class LoyaltyConfig(AppConfig):
    name = "loyalty"

    def ready(self):
        # Imported here: the receivers use the models, which are not loaded when this module is.
        from customers import merge_registry
        from loyalty import receivers
        from loyalty.tasks import ensure_nightly_clv_fit

        customers_merged.connect(receivers.merge_tiers_and_points, dispatch_uid="loyalty.merge")
        merge_undone.connect(receivers.give_back_tiers_and_points, dispatch_uid="loyalty.merge_undone")
        # A merged customer's lifetime value stays with them; the next fit values the survivor
        # on the orders it then holds.
        merge_registry.register("loyalty.CustomerLifetimeValue.customer", merge_registry.KEEP)
        post_migrate.connect(
            ensure_nightly_clv_fit, sender=self, dispatch_uid="loyalty.ensure_nightly_clv_fit"
        )
