"""customers' own handlers of its domain signals that the bulk room sends (it cannot call
the services) or that other apps send (an anonymization): they write the webhook events."""

from customers.models import Order
from customers.services.orders import order_json
from customers.services.webhooks import EVENT_CHUNK, Event, emit_events, emit_for_customers, wanted


def events_after_customer_import(sender, business, created_customer_ids=(), updated_fields=None, **kwargs):
    emit_for_customers(
        business_id=business.pk, type="customers.customer.created", customer_ids=created_customer_ids
    )
    by_fields = {}
    for customer_id, fields in (updated_fields or {}).items():
        by_fields.setdefault(tuple(fields), []).append(customer_id)
    for fields, customer_ids in sorted(by_fields.items()):
        emit_for_customers(
            business_id=business.pk,
            type="customers.customer.updated",
            customer_ids=customer_ids,
            fields=list(fields),
        )


def events_after_order_import(sender, business, order_ids, created_customer_ids=(), **kwargs):
    emit_for_customers(
        business_id=business.pk, type="customers.customer.created", customer_ids=created_customer_ids
    )
    if not wanted(business.pk, "orders.order.recorded"):
        return
    orders = [order_json(order) for order in Order.objects.filter(pk__in=order_ids).order_by("pk")]
    emit_events(
        business_id=business.pk,
        events=[
            Event("orders.order.recorded", {"orders": chunk}, None)
            for chunk in (orders[start : start + EVENT_CHUNK] for start in range(0, len(orders), EVENT_CHUNK))
        ],
    )


def events_after_anonymization(sender, business, customer_ids, **kwargs):
    emit_for_customers(business_id=business.pk, type="customers.customer.deleted", customer_ids=customer_ids)
