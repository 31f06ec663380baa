from django.urls import path

from privacy.api import audience, preferences, views

app_name = "privacy_api"
urlpatterns = [
    path("customers/<int:pk>/preferences", preferences.customer_preferences, name="preferences"),
    path("customers/<int:pk>/consents", preferences.customer_consents, name="consents"),
    path("customers/<int:pk>/export", views.request_export, name="request_export"),
    path("exports/<int:pk>", views.export, name="export"),
    path("exports/<int:pk>/download", views.download, name="download"),
    path("segments/<int:pk>/audience", audience.segment_audience, name="segment_audience"),
]
