from django.urls import path

from customers.api import batch, docs, views, webhooks

app_name = "api"
urlpatterns = [
    path("openapi.json", docs.openapi_json, name="openapi"),
    path("docs", docs.docs, name="docs"),
    path("orders", views.orders, name="orders"),
    path("orders/batch", batch.orders_batch, name="orders_batch"),
    path("orders/<int:pk>", views.order, name="order"),
    path("orders/<int:pk>/payments", views.order_payments, name="order_payments"),
    path("payments/<int:pk>/refunds", views.payment_refunds, name="payment_refunds"),
    path("customers/merge", views.merge, name="merge"),
    path("jobs/<int:pk>", views.job, name="job"),
    path("webhooks", webhooks.webhooks, name="webhooks"),
    path("webhooks/<int:pk>", webhooks.webhook, name="webhook"),
    path("webhooks/<int:pk>/test", webhooks.test, name="webhook_test"),
    path("webhooks/<int:pk>/deliveries", webhooks.deliveries, name="webhook_deliveries"),
]
