from django.urls import path

from customers import api

app_name = "api"
urlpatterns = [
    path("orders", api.orders, name="orders"),
    path("customers/merge", api.merge, name="merge"),
    path("jobs/<int:pk>", api.job, name="job"),
]
