from django.urls import path

from privacy.api import preferences

app_name = "privacy_api"
urlpatterns = [
    path("customers/<int:pk>/preferences", preferences.customer_preferences, name="preferences"),
    path("customers/<int:pk>/consents", preferences.customer_consents, name="consents"),
]
