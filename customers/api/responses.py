"""The JSON Schemas of what the customers app's endpoints answer, as the OpenAPI document
publishes them (and the Schemathesis run in CI holds the answers to)."""

from customers.api.schemas import (
    BOOLEAN,
    DATE,
    DATETIME,
    ERRORS,
    ID,
    INTEGER,
    MONEY,
    NUMBER,
    STRING,
    array,
    enum,
    nullable,
    obj,
    page,
)
from customers.models import Customer, Dropoff, Job, Order, Payment

ORDER_RECORDED = obj(
    {
        "order_id": ID,
        "customer_id": ID,
        "customer_created": BOOLEAN,
        "blocked": BOOLEAN,
        "payment_ids": array(ID),
        "cod_unverified": BOOLEAN,
    }
)

PAYMENT = {
    "id": ID,
    "transaction_id": STRING,
    "amount": MONEY,
    "currency": STRING,
    "method": enum(Payment.Method.values),
    "status": enum(Payment.Status.values),
    "provider": STRING,
    "processed_at": nullable(DATETIME),
    "refunded": MONEY,
}

ORDER_MONEY = {
    "id": ID,
    "status": enum(Order.Status.values),
    "paid": MONEY,
    "refunded": MONEY,
    "outstanding": MONEY,
}

ORDER = obj(
    {
        **ORDER_MONEY,
        "external_id": STRING,
        "customer_id": ID,
        "amount": MONEY,
        "currency": STRING,
        "placed_at": DATETIME,
        "completed_at": nullable(DATETIME),
        "created_at": DATETIME,
        "source": STRING,
        "cod_unverified": BOOLEAN,
        "items": array(
            obj({"sku": STRING, "name": STRING, "category": STRING, "quantity": INTEGER, "price": MONEY})
        ),
        "payments": array(
            obj(
                {
                    **PAYMENT,
                    "refunds": array(
                        obj(
                            {
                                "id": ID,
                                "amount": MONEY,
                                "reason": STRING,
                                "source": STRING,
                                "created_at": DATETIME,
                            }
                        )
                    ),
                }
            )
        ),
    }
)

PAYMENT_ADDED = obj({"payment_id": ID, "order_id": ID, **PAYMENT, "cod_unverified": BOOLEAN})

REFUNDED = obj(
    {
        "refund_id": ID,
        "payment": obj({"id": ID, "status": enum(Payment.Status.values), "amount": MONEY, "refunded": MONEY}),
        "order": obj(ORDER_MONEY),
    }
)

MERGED = obj({"merge_id": ID, "survivor_id": ID, "merged_ids": array(ID)})

JOB = obj(
    {
        "id": ID,
        "kind": STRING,
        "status": enum([Job.Status.QUEUED, Job.Status.RUNNING, Job.Status.DONE, Job.Status.FAILED]),
        "rows_done": INTEGER,
        "total_rows": nullable(INTEGER),
        "failure": nullable(STRING),
    }
)

CUSTOMER_FIELDS = {
    "id": ID,
    "phone": STRING,
    "first_name": STRING,
    "last_name": STRING,
    "preferred_name": STRING,
    "email": STRING,
    "date_of_birth": nullable(DATE),
    "language": STRING,
    "timezone": STRING,
    "status": enum(Customer.Status.values),
    "phone_verified": BOOLEAN,
    "is_blacklisted": BOOLEAN,
    "tier": enum(Customer.Tier.values),
    "points_balance": INTEGER,
    "tags": array(obj({"id": ID, "name": STRING})),
    "order_count": INTEGER,
    "total_spent": MONEY,
    "first_order_at": nullable(DATETIME),
    "last_order_at": nullable(DATETIME),
    "created_at": DATETIME,
    "updated_at": DATETIME,
}
CUSTOMER = obj(CUSTOMER_FIELDS)
CUSTOMERS = page(CUSTOMER)
# The profile: the customer with its stats, and the keys other apps add
# (customers/api/profile_sections.py adds them to this schema as they register).
CUSTOMER_PROFILE = obj(
    {**CUSTOMER_FIELDS, "average_order_value": nullable(MONEY), "days_since_last_order": nullable(INTEGER)}
)

CUSTOMER_ORDERS = page(
    obj(
        {
            "id": ID,
            "external_id": STRING,
            "status": enum(Order.Status.values),
            "amount": MONEY,
            "currency": STRING,
            "placed_at": DATETIME,
            "completed_at": nullable(DATETIME),
            "source": STRING,
            "created_at": DATETIME,
        }
    )
)

ADDRESS = obj(
    {
        "id": ID,
        "kind": enum(Dropoff.Kind.values),
        "street": STRING,
        "street2": STRING,
        "city": STRING,
        "state": STRING,
        "postal_code": STRING,
        "country": STRING,
        "lat": nullable(NUMBER),
        "lng": nullable(NUMBER),
        "is_default": BOOLEAN,
        "created_at": DATETIME,
    }
)
ADDRESSES = page(ADDRESS)

BATCH_RESULTS = obj(
    {
        "results": array(
            {
                "anyOf": [
                    obj(
                        {
                            "status": {"type": "integer", "enum": [201, 200]},
                            "order_id": ID,
                            "customer_id": ID,
                            "customer_created": BOOLEAN,
                            "blocked": BOOLEAN,
                        }
                    ),
                    obj(
                        {
                            "status": {"type": "integer", "const": 400},
                            "errors": ERRORS["properties"]["errors"],
                        }
                    ),
                ]
            },
            description="One result per order, in the order of `orders`",
        )
    }
)
