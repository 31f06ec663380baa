from django.urls import path

from segments import views

app_name = "segments"
urlpatterns = [
    path("", views.index, name="index"),
]
