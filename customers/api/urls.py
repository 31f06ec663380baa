from django.urls import path

from customers.api import views

app_name = "api"
urlpatterns = [
    path("orders", views.orders, name="orders"),
    path("customers/merge", views.merge, name="merge"),
    path("jobs/<int:pk>", views.job, name="job"),
]
