from django.urls import path

from privacy import preference_views, views

app_name = "privacy"
urlpatterns = [
    path("", views.index, name="index"),
    path("consents/", preference_views.consent_search, name="consents"),
    path("settings/", preference_views.privacy_settings, name="settings"),
    path("customers/<int:pk>/preferences/", preference_views.edit_preferences, name="edit_preferences"),
    path("customers/<int:pk>/consents/", preference_views.customer_consents, name="customer_consents"),
    path("access-log/", views.access_log, name="access_log"),
    path("retention/", views.retention_rule, name="retention_rule"),
    path("customers/<int:pk>/export/", views.request_export, name="request_export"),
    path("customers/<int:pk>/anonymize/", views.request_anonymization, name="request_anonymization"),
    path("exports/<int:pk>/approve/", views.approve_export, name="approve_export"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("exports/download/<str:token>/", views.export_file, name="export_file"),
    path("anonymizations/<int:pk>/approve/", views.approve_anonymization, name="approve_anonymization"),
    path("anonymizations/<int:pk>/reject/", views.reject_anonymization, name="reject_anonymization"),
    path("segments/<int:pk>/audience.csv", views.segment_audience, name="segment_audience"),
]
