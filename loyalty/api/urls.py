from django.urls import path

from loyalty.api import views

app_name = "loyalty_api"
urlpatterns = [
    path("tiers/configuration", views.tier_configuration, name="tier_configuration"),
    path("tiers/recalculate", views.recalculate, name="recalculate"),
    path("tiers/audits", views.audits, name="audits"),
    path("customers/<int:pk>/loyalty", views.customer_loyalty, name="customer_loyalty"),
    path("customers/<int:pk>/points", views.customer_points, name="customer_points"),
]
