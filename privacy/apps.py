from django.apps import AppConfig

from customers.signals import (
    customers_imported,
    customers_merged,
    demo_seeded,
    merge_undone,
    order_recorded,
    orders_imported,
)


class PrivacyConfig(AppConfig):
    name = "privacy"

    def ready(self):
        # Imported here: the receivers use the models, which are not loaded when this module is.
        from customers import merge_registry, profile_panels
        from privacy import preference_views, receivers

        order_recorded.connect(receivers.record_checkout_consents, dispatch_uid="privacy.order_recorded")
        orders_imported.connect(receivers.record_imported_consents, dispatch_uid="privacy.orders_imported")
        customers_imported.connect(
            receivers.record_imported_consents, dispatch_uid="privacy.customers_imported"
        )
        customers_merged.connect(receivers.merge_consents, dispatch_uid="privacy.merge")
        merge_undone.connect(receivers.give_back_consents, dispatch_uid="privacy.merge_undone")
        demo_seeded.connect(receivers.seed_demo_preferences, dispatch_uid="privacy.seed_demo")
        # The merged customers' consent histories move to the survivor (and back on undo);
        # each keeps its own preference record, and the survivor's takes the most restrictive
        # consents in the customers_merged receiver.
        merge_registry.register("privacy.ConsentEvent.customer", merge_registry.MOVE)
        merge_registry.register("privacy.CommunicationPreference.customer", merge_registry.KEEP)
        profile_panels.register("privacy/preferences_panel.html", preference_views.profile_panel, order=20)
