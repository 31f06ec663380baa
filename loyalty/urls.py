from django.urls import path

from loyalty import views

app_name = "loyalty"
urlpatterns = [
    path("", views.index, name="index"),
    path("clv/", views.clv, name="clv"),
    path("what-if/", views.what_if, name="what_if"),
    path("recalculate/", views.recalculate, name="recalculate"),
    *views.recalculation_jobs.urls("jobs/"),
    path("customers/<int:pk>/override/", views.override, name="override"),
    path("overrides/", views.bulk_override, name="bulk_override"),
    path("points/rule/", views.points_rule, name="points_rule"),
    path("customers/<int:pk>/points/", views.customer_points, name="customer_points"),
    path("customers/<int:pk>/points/adjust/", views.adjust_points, name="adjust_points"),
]
