from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CustomersConfig(AppConfig):
    name = "customers"

    def ready(self):
        from customers import jobs, services
        from customers.models import ExportJob, ImportJob
        from customers.roles import sync_role_groups
        from customers.tasks import ensure_job_sweeper, ensure_nightly_duplicate_scan

        jobs.register("import", model=ImportJob, start=services.restart_import)
        jobs.register("export", model=ExportJob, start=services.queue_export)

        post_migrate.connect(sync_role_groups, sender=self, dispatch_uid="customers.sync_role_groups")
        post_migrate.connect(
            ensure_nightly_duplicate_scan, sender=self, dispatch_uid="customers.ensure_nightly_duplicate_scan"
        )
        post_migrate.connect(ensure_job_sweeper, sender=self, dispatch_uid="customers.ensure_job_sweeper")
