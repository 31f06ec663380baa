from django.urls import path

from loyalty import views

app_name = "loyalty"
urlpatterns = [
    path("", views.index, name="index"),
    path("clv/", views.clv, name="clv"),
]
