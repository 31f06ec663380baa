from datetime import time

from django.apps import AppConfig
from django.db.models.signals import post_migrate

from customers.signals import customer_anonymized, customers_imported, orders_imported


class CustomersConfig(AppConfig):
    name = "customers"

    def ready(self):
        from django_q.signals import post_execute_in_worker, pre_execute

        from customers import bulk_actions, jobs, receivers, replicas, schedules, services
        from customers.forms import BulkTagForm, BulkUntagForm
        from customers.models import BulkActionJob, ExportJob, ImportJob
        from customers.roles import sync_role_groups

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

        schedules.register(
            "Nightly duplicate scan", "customers.tasks.detect_duplicates_everywhere", daily_at=time(2, 30)
        )
        schedules.register(
            "Reconcile dashboard summaries",
            "customers.tasks.reconcile_dashboard_summaries_everywhere",
            minutes=15,
        )
        # The name of the first release, kept so that upgraded databases do not get a second
        # sweeper. A job that lost its worker is failed or queued again within
        # JOB_STALE_SECONDS and a minute.
        schedules.register("Fail stale import and export jobs", "customers.tasks.fail_stale_jobs", minutes=1)

        pre_execute.connect(replicas.task_started, dispatch_uid="customers.replicas.started")
        post_execute_in_worker.connect(replicas.task_finished, dispatch_uid="customers.replicas.finished")

        customers_imported.connect(
            receivers.events_after_customer_import, dispatch_uid="customers.webhooks.customers_imported"
        )
        orders_imported.connect(
            receivers.events_after_order_import, dispatch_uid="customers.webhooks.orders_imported"
        )
        customer_anonymized.connect(
            receivers.events_after_anonymization, dispatch_uid="customers.webhooks.anonymized"
        )
        # Deliveries go out right after their commit; this picks up what a killed worker left
        # and the retries that came due.
        schedules.register("Deliver webhooks", "customers.tasks.deliver_webhooks", minutes=1)
        schedules.register(
            "Delete old webhook events", "customers.tasks.purge_webhook_log", daily_at=time(4, 15)
        )

        post_migrate.connect(sync_role_groups, sender=self, dispatch_uid="customers.sync_role_groups")
        # Every app has registered its schedules in its ready() by the time migrate ends.
        post_migrate.connect(
            schedules.ensure_schedules, sender=self, dispatch_uid="customers.ensure_schedules"
        )
