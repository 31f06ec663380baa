"""The event types a webhook endpoint may subscribe to. customers registers its own below;
another app registers the types of its features from its AppConfig.ready(), so that
customers imports none of them:

    webhook_events.register("customers.tier.upgraded", "A customer moved up a tier",
                            example={"changes": [{"customer_id": 7, "from": "BRONZE", "to": "SILVER"}]})

and writes its events with `services.emit_event(...)` inside the transaction of the change.
`data` carries ids and the changed fields only, never more personal data than the event
needs. An event of bulk work names many customers at once (`customer_ids`, `changes` or
`orders` lists), one event per chunk."""

from dataclasses import dataclass, field

# Sent by hand to one endpoint ("Send test event", `POST webhooks/{id}/test`), whatever it subscribes to.
TEST = "webhook.test"


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    example: dict = field(default_factory=dict)


EVENT_TYPES: dict[str, EventType] = {}


def register(name, description, *, example=None):
    EVENT_TYPES[name] = EventType(name=name, description=description, example=example or {})


def is_known(name):
    return name in EVENT_TYPES


def choices():
    return [(event.name, event.name) for event in sorted(EVENT_TYPES.values(), key=lambda e: e.name)]


for _name, _description, _example in [
    ("customers.customer.created", "Customers were created", {"customer_ids": [7]}),
    (
        "customers.customer.updated",
        "Customers' contact data changed (the names of the changed fields)",
        {"customer_ids": [7], "fields": ["email"]},
    ),
    ("customers.customer.deleted", "Customers were anonymized", {"customer_ids": [7]}),
    (
        "customers.customer.merged",
        "Duplicates were merged into a survivor",
        {"merge_id": 3, "survivor_id": 7, "merged_ids": [8, 9]},
    ),
    (
        "orders.order.recorded",
        "Orders were recorded (one, or a chunk of an import)",
        {
            "orders": [
                {
                    "id": 11,
                    "external_id": "A-1001",
                    "customer_id": 7,
                    "status": "completed",
                    "amount": "42.50",
                    "currency": "USD",
                    "placed_at": "2026-11-01T12:00:00+00:00",
                }
            ]
        },
    ),
    (
        "orders.order.status_changed",
        "An order's status changed",
        {
            "orders": [
                {
                    "id": 11,
                    "external_id": "A-1001",
                    "customer_id": 7,
                    "old_status": "pending",
                    "status": "completed",
                }
            ]
        },
    ),
]:
    register(_name, _description, example=_example)
