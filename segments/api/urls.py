from django.urls import path

from segments.api import views

app_name = "segments_api"
urlpatterns = [
    path("segments", views.segments, name="segments"),
    path("segments/preview", views.preview, name="preview"),
    path("segments/<int:pk>", views.segment, name="segment"),
    path("segments/<int:pk>/recalculate", views.recalculate, name="recalculate"),
    path("segments/<int:pk>/members", views.members, name="members"),
    path("customers/<int:pk>/segments", views.customer_segments, name="customer_segments"),
]
