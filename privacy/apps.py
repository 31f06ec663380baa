from django.apps import AppConfig
from django.db.models.signals import post_migrate

from customers.signals import demo_seeded, pii_accessed


class PrivacyConfig(AppConfig):
    name = "privacy"

    def ready(self):
        # Imported here: these use the models, which are not loaded when this module is.
        from customers import jobs, merge_registry, profile_panels
        from privacy import queries, receivers, services, views
        from privacy.models import AnonymizationJob, DataExportJob
        from privacy.queries import export_sections
        from privacy.tasks import ensure_schedules

        pii_accessed.connect(receivers.log_pii_access, dispatch_uid="privacy.pii_accessed")
        demo_seeded.connect(receivers.seed_demo_privacy, dispatch_uid="privacy.seed_demo")
        # A request stays with the record it was made about; the access log names customer ids.
        merge_registry.register("privacy.DataExport.customer", merge_registry.KEEP)
        merge_registry.register("privacy.AnonymizationRequest.customer", merge_registry.KEEP)
        jobs.register("data_export", model=DataExportJob, start=services.queue_build)
        jobs.register("anonymization", model=AnonymizationJob, start=services.queue_anonymization)
        # What a data export holds. Communication preferences and consents register
        # "preferences" and "consents" here too, with the foreign keys they cover.
        export_sections.register_customers_sections()
        export_sections.register_loyalty_sections()
        export_sections.register("access_log", queries.access_log_of)
        export_sections.register(
            "privacy_requests",
            queries.privacy_requests_of,
            covers=["privacy.DataExport.customer", "privacy.AnonymizationRequest.customer"],
        )
        profile_panels.register("privacy/profile_panel.html", views.profile_panel, order=30)
        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="privacy.ensure_schedules")
