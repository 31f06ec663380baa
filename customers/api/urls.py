from django.urls import path

from customers.api import batch, customers, docs, views, webhooks
from customers.api.endpoints import route

app_name = "api"
urlpatterns = [
    path("openapi.json", docs.openapi_json, name="openapi"),
    path("docs", docs.docs, name="docs"),
    path("orders", views.orders, name="orders"),
    path("orders/batch", batch.orders_batch, name="orders_batch"),
    path("orders/<int:pk>", views.order, name="order"),
    path("orders/<int:pk>/payments", views.order_payments, name="order_payments"),
    path("payments/<int:pk>/refunds", views.payment_refunds, name="payment_refunds"),
    path("customers", route(customers.customers, customers.create_customer), name="customers"),
    path("customers/merge", views.merge, name="merge"),
    path("customers/<int:pk>/orders", customers.customer_orders, name="customer_orders"),
    path("customers/<int:pk>/addresses", route(customers.addresses, customers.add_address), name="addresses"),
    path(
        "customers/<int:pk>/addresses/<int:address_pk>",
        route(customers.change_address, customers.remove_address),
        name="address",
    ),
    path("jobs/<int:pk>", views.job, name="job"),
    path("webhooks", webhooks.webhooks, name="webhooks"),
    path("webhooks/<int:pk>", webhooks.webhook, name="webhook"),
    path("webhooks/<int:pk>/test", webhooks.test, name="webhook_test"),
    path("webhooks/<int:pk>/deliveries", webhooks.deliveries, name="webhook_deliveries"),
]
