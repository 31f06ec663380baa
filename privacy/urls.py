from django.urls import path

from privacy import preference_views, views

app_name = "privacy"
urlpatterns = [
    path("", views.index, name="index"),
    path("consents/", preference_views.consent_search, name="consents"),
    path("settings/", preference_views.privacy_settings, name="settings"),
    path("customers/<int:pk>/preferences/", preference_views.edit_preferences, name="edit_preferences"),
    path("customers/<int:pk>/consents/", preference_views.customer_consents, name="customer_consents"),
]
