from datetime import time

from django.apps import AppConfig

from customers.signals import (
    customer_anonymized,
    customers_imported,
    customers_merged,
    demo_seeded,
    merge_undone,
    order_recorded,
    orders_imported,
    orders_recorded,
    pii_accessed,
)


class PrivacyConfig(AppConfig):
    name = "privacy"

    def ready(self):
        # Imported here: these use the models, which are not loaded when this module is.
        from customers import jobs, merge_registry, profile_panels, schedules, webhook_events
        from customers.api import profile_sections
        from privacy import preference_views, queries, receivers, segment_fields, services, views
        from privacy.api.responses import PREFERENCES
        from privacy.models import AnonymizationJob, DataExportJob
        from privacy.queries import export_sections
        from segments.rules import register_field

        order_recorded.connect(receivers.record_checkout_consents, dispatch_uid="privacy.order_recorded")
        orders_imported.connect(receivers.record_imported_consents, dispatch_uid="privacy.orders_imported")
        orders_recorded.connect(receivers.record_batch_consents, dispatch_uid="privacy.orders_recorded")
        customers_imported.connect(
            receivers.record_imported_consents, dispatch_uid="privacy.customers_imported"
        )
        customers_merged.connect(receivers.merge_consents, dispatch_uid="privacy.merge")
        merge_undone.connect(receivers.give_back_consents, dispatch_uid="privacy.merge_undone")
        customer_anonymized.connect(receivers.clear_preferences, dispatch_uid="privacy.anonymized")
        pii_accessed.connect(receivers.log_pii_access, dispatch_uid="privacy.pii_accessed")
        demo_seeded.connect(receivers.seed_demo_preferences, dispatch_uid="privacy.seed_demo")
        demo_seeded.connect(receivers.seed_demo_privacy, dispatch_uid="privacy.seed_demo_requests")
        # The merged customers' consent histories move to the survivor (and back on undo);
        # each keeps its own preference record, and the survivor's takes the most restrictive
        # consents in the customers_merged receiver. A request stays with the record it was
        # made about; the access log names customer ids.
        merge_registry.register("privacy.ConsentEvent.customer", merge_registry.MOVE)
        merge_registry.register("privacy.CommunicationPreference.customer", merge_registry.KEEP)
        merge_registry.register("privacy.DataExport.customer", merge_registry.KEEP)
        merge_registry.register("privacy.AnonymizationRequest.customer", merge_registry.KEEP)
        example = {"export_id": 4, "customer_id": 7, "type": "GDPR_FULL", "regulation": "GDPR"}
        for what, description in [
            ("requested", "A data export of a customer was requested"),
            ("completed", "A data export's file is ready"),
            ("failed", "A data export failed"),
        ]:
            webhook_events.register(f"customers.data_export.{what}", description, example=example)
        jobs.register("data_export", model=DataExportJob, start=services.queue_build)
        jobs.register("anonymization", model=AnonymizationJob, start=services.queue_anonymization)
        for field in segment_fields.FIELDS:
            register_field(field)
        # What a data export holds.
        export_sections.register_customers_sections()
        export_sections.register_loyalty_sections()
        export_sections.register_segments_sections()
        export_sections.register(
            "preferences", queries.preferences_export, covers=["privacy.CommunicationPreference.customer"]
        )
        export_sections.register(
            "consents", queries.consents_export, covers=["privacy.ConsentEvent.customer"]
        )
        export_sections.register("access_log", queries.access_log_of)
        export_sections.register(
            "privacy_requests",
            queries.privacy_requests_of,
            covers=["privacy.DataExport.customer", "privacy.AnonymizationRequest.customer"],
        )
        profile_sections.register("preferences", schema=PREFERENCES, load=queries.preferences_by_customer)
        profile_panels.register("privacy/preferences_panel.html", preference_views.profile_panel, order=20)
        profile_panels.register("privacy/profile_panel.html", views.profile_panel, order=30)
        schedules.register(
            "Nightly retention (anonymize expired deleted customers)",
            "privacy.tasks.run_retention",
            daily_at=time(3, 45),
        )
        schedules.register(
            "Delete expired data export files", "privacy.tasks.expire_data_exports", minutes=60
        )
