from django.urls import path

from customers import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.edit_contact, name="edit"),
    path("<int:pk>/blacklist/", views.blacklist, name="blacklist"),
    path("<int:pk>/unblacklist/", views.unblacklist, name="unblacklist"),
    path("<int:pk>/notes/", views.add_note, name="add_note"),
    path("<int:pk>/tags/", views.add_tag, name="add_tag"),
    path("<int:pk>/tags/<int:tag_pk>/remove/", views.remove_tag, name="remove_tag"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("<int:pk>/restore/", views.restore, name="restore"),
]
