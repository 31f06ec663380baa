from customers.models import AuditEntry


def log_audit(*, business, actor, action, target="", **data):
    """Record a change to the business itself (`actor` None: the system), in the caller's transaction."""
    return AuditEntry.objects.create(
        business=business, actor=actor, action=action, target=str(target)[:200], data=data
    )
