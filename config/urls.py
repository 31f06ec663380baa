from django.contrib import admin
from django.urls import include, path

from config import views
from customers.api import customers as customer_api
from customers.api.endpoints import route
from customers.views import webhooks
from customers.views.settings import business_settings
from privacy.api import views as privacy_api

admin.site.site_header = admin.site.site_title = "Customer Back Office"
admin.site.index_title = "Administration"

handler404 = views.not_found

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("dashboard.csv", views.dashboard_csv, name="dashboard_csv"),
    path("api/v1/dashboard", views.dashboard_api, name="dashboard_api"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("switch-business/", views.switch_business, name="switch_business"),
    path("settings/", business_settings, name="business_settings"),
    path("settings/webhooks/", webhooks.endpoint_list, name="webhooks"),
    path("settings/webhooks/<int:pk>/", webhooks.endpoint_detail, name="webhook"),
    path("settings/webhooks/<int:pk>/delete/", webhooks.endpoint_delete, name="webhook_delete"),
    path("settings/webhooks/<int:pk>/test/", webhooks.endpoint_test, name="webhook_test"),
    path(
        "settings/webhooks/<int:pk>/deliveries/<int:delivery_pk>/",
        webhooks.delivery_detail,
        name="webhook_delivery",
    ),
    path(
        "settings/webhooks/<int:pk>/deliveries/<int:delivery_pk>/redeliver/",
        webhooks.delivery_redeliver,
        name="webhook_redeliver",
    ),
    path("customers/", include("customers.urls")),
    path("segments/", include("segments.urls")),
    path("loyalty/", include("loyalty.urls")),
    path("privacy/", include("privacy.urls")),
    # One path, three apps: the profile and its contact data (customers), and DELETE, an
    # anonymization request (privacy).
    path(
        "api/v1/customers/<int:pk>",
        route(customer_api.customer, customer_api.update_customer, privacy_api.delete_customer),
        name="api_customer",
    ),
    path("api/v1/", include("customers.api.urls")),
    path("api/v1/", include("loyalty.api.urls")),
    path("api/v1/", include("privacy.api.urls")),
    path("api/v1/", include("segments.api.urls")),
    path("admin/", admin.site.urls),
]
