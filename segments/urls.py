from django.urls import path

from segments import views

app_name = "segments"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.create, name="create"),
    path("preview/", views.preview, name="preview"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("<int:pk>/recalculate/", views.recalculate, name="recalculate"),
    path("<int:pk>/phones/", views.add_phones, name="add_phones"),
    *views.recalculation_jobs.urls("jobs/"),
]
