"""django-q2 entry points of the customers app: they take ids, load, and call a service."""

from customers import services
from customers.models import Business, DuplicateScan


def detect_duplicates_task(business_id, scan_id=None):
    """Run the duplicate scan of one business; a scan id comes from a request on the page."""
    business = Business.objects.filter(pk=business_id).first()
    if business is None:
        return 0
    scan = DuplicateScan.objects.filter(pk=scan_id, business=business).first() if scan_id else None
    if scan is None or scan.finished_at:
        scan = DuplicateScan.objects.create(business=business)
    return services.run_duplicate_scan(scan=scan)


def detect_duplicates_everywhere():
    """The nightly schedule: queue a scan of every business."""
    for business in Business.objects.order_by("pk"):
        services.request_duplicate_scan(business=business, actor=None)


def run_import_job(job_id):
    """Check or import an uploaded file (ImportJob); does nothing if the job is not queued."""
    services.run_import_job(job_id)


def run_export_job(job_id):
    """Write an export file (ExportJob); does nothing if the job is not queued."""
    services.run_export_job(job_id)


def run_bulk_action_job(job_id):
    """Run a bulk action on many customers (BulkActionJob); does nothing if the job is not queued."""
    services.run_bulk_action_job(job_id)


def fail_stale_jobs():
    """The sweeper's schedule, and the only caller of the sweep."""
    services.fail_stale_jobs()


def reconcile_dashboard_summaries_everywhere():
    """The schedule that checks every business's recent dashboard figures against its orders."""
    for business in Business.objects.order_by("pk"):
        services.reconcile_dashboard_summaries(business=business)


def deliver_webhooks():
    """Deliver the webhook deliveries that are due (queued after each commit that wrote
    events, and every minute for retries and for what a killed worker left)."""
    return services.start_delivery()


def purge_webhook_log():
    """The daily schedule that deletes webhook events and their log after 30 days."""
    return services.purge_webhook_log()
