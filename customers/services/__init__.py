"""Every write of the customers app. Each function takes an explicit `actor` (a user, or
None for the API and system work), runs in a transaction and writes the customer's
timeline itself.

One module per family of use cases; this package re-exports the names its callers use as
`services.X`."""

from customers.merge_registry import MERGE_FIELDS, MERGE_HANDLING
from customers.models import ADDRESS_LIMIT_EXCEEDED, CONTACT_FIELDS
from customers.normalize import address_key, normalize_phone
from customers.queries import find_customer_by_phone
from customers.services.activity import log_activity
from customers.services.addresses import add_address, change_address, remove_address
from customers.services.api_keys import (
    authenticate_api_key,
    change_api_key_scopes,
    create_api_key,
    rename_api_key,
    revoke_api_key,
)
from customers.services.blacklist import (
    blacklist_customer,
    blacklist_many,
    unblacklist_customer,
    unblacklist_many,
)
from customers.services.bulk_actions import (
    queue_bulk_job,
    run_bulk_action,
    run_bulk_action_job,
    tag_many,
    untag_many,
)
from customers.services.business import update_business_settings
from customers.services.duplicates import (
    detect_duplicates,
    dismiss_duplicate,
    request_duplicate_scan,
    run_duplicate_scan,
)
from customers.services.exports import queue_export, request_export, run_export_job
from customers.services.identity import get_or_create_customer, link_account
from customers.services.imports import (
    check_import_file,
    confirm_import,
    import_rows,
    restart_import,
    run_import_job,
    start_import,
)
from customers.services.jobs import UNEXPECTED_JOB_ERROR, cancel_job, fail_stale_jobs, retry_job
from customers.services.merge import CONFLICT, merge_customers, undo_merge
from customers.services.orders import change_order_address, change_order_status, record_order, record_orders
from customers.services.payments import (
    add_payment,
    mark_phone_verified,
    refund_payment,
)
from customers.services.profile import (
    add_note,
    delete_customer,
    restore_customer,
    tag_customer,
    untag_customer,
    update_contact,
)
from customers.services.summaries import rebuild_dashboard_summaries, reconcile_dashboard_summaries
from customers.services.webhooks import (
    clean_endpoint,
    create_endpoint,
    delete_endpoint,
    deliver_due,
    emit_event,
    emit_events,
    emit_for_customers,
    new_secret,
    purge_webhook_log,
    redeliver,
    send_test_event,
    start_delivery,
    update_endpoint,
)

__all__ = [
    "clean_endpoint",
    "create_endpoint",
    "delete_endpoint",
    "deliver_due",
    "emit_event",
    "emit_events",
    "emit_for_customers",
    "new_secret",
    "purge_webhook_log",
    "redeliver",
    "send_test_event",
    "start_delivery",
    "update_endpoint",
    "queue_bulk_job",
    "run_bulk_action",
    "run_bulk_action_job",
    "tag_many",
    "untag_many",
    "ADDRESS_LIMIT_EXCEEDED",
    "CONFLICT",
    "CONTACT_FIELDS",
    "MERGE_FIELDS",
    "MERGE_HANDLING",
    "UNEXPECTED_JOB_ERROR",
    "add_address",
    "change_address",
    "remove_address",
    "add_payment",
    "add_note",
    "address_key",
    "authenticate_api_key",
    "blacklist_customer",
    "cancel_job",
    "blacklist_many",
    "change_order_address",
    "change_order_status",
    "check_import_file",
    "confirm_import",
    "change_api_key_scopes",
    "create_api_key",
    "delete_customer",
    "detect_duplicates",
    "dismiss_duplicate",
    "fail_stale_jobs",
    "find_customer_by_phone",
    "get_or_create_customer",
    "import_rows",
    "link_account",
    "log_activity",
    "mark_phone_verified",
    "merge_customers",
    "normalize_phone",
    "queue_export",
    "rebuild_dashboard_summaries",
    "reconcile_dashboard_summaries",
    "record_order",
    "record_orders",
    "refund_payment",
    "rename_api_key",
    "request_duplicate_scan",
    "request_export",
    "restart_import",
    "restore_customer",
    "retry_job",
    "revoke_api_key",
    "run_duplicate_scan",
    "run_export_job",
    "run_import_job",
    "start_import",
    "tag_customer",
    "unblacklist_customer",
    "unblacklist_many",
    "undo_merge",
    "untag_customer",
    "update_business_settings",
    "update_contact",
]
