from customers.models import Activity


def log_activity(customer, kind, actor=None, **data):
    activity = unsaved_activity(customer, kind, actor, **data)
    activity.save()
    return activity


def unsaved_activity(customer, kind, actor=None, **data):
    return Activity(business_id=customer.business_id, customer=customer, kind=kind, actor=actor, data=data)
