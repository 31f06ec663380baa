from django.apps import AppConfig

from customers.signals import customers_merged, merge_undone


class LoyaltyConfig(AppConfig):
    name = "loyalty"

    def ready(self):
        # Imported here: the receivers use the models, which are not loaded when this module is.
        from loyalty import receivers

        customers_merged.connect(receivers.merge_tiers_and_points, dispatch_uid="loyalty.merge")
        merge_undone.connect(receivers.give_back_tiers_and_points, dispatch_uid="loyalty.merge_undone")
