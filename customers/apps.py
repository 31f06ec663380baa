from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CustomersConfig(AppConfig):
    name = "customers"

    def ready(self):
        from customers import bulk_actions, jobs, services
        from customers.forms import BulkTagForm, BulkUntagForm
        from customers.models import BulkActionJob, ExportJob, ImportJob
        from customers.roles import sync_role_groups
        from customers.tasks import ensure_job_sweeper, ensure_nightly_duplicate_scan

        jobs.register("import", model=ImportJob, start=services.restart_import)
        jobs.register("export", model=ExportJob, start=services.queue_export)
        jobs.register("bulk_action", model=BulkActionJob, start=services.queue_bulk_job)
        bulk_actions.register(
            "add_tag",
            label="Add a tag",
            permission="customers.add_tag",
            form=BulkTagForm,
            run=services.tag_many,
            order=10,
        )
        bulk_actions.register(
            "remove_tag",
            label="Remove a tag",
            permission="customers.add_tag",
            form=BulkUntagForm,
            run=services.untag_many,
            order=11,
        )

        post_migrate.connect(sync_role_groups, sender=self, dispatch_uid="customers.sync_role_groups")
        post_migrate.connect(
            ensure_nightly_duplicate_scan, sender=self, dispatch_uid="customers.ensure_nightly_duplicate_scan"
        )
        post_migrate.connect(ensure_job_sweeper, sender=self, dispatch_uid="customers.ensure_job_sweeper")
