from django.urls import path

from customers import import_export_views, merge_views, views

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
    path("duplicates/", merge_views.duplicates, name="duplicates"),
    path("duplicates/scan/", merge_views.scan_duplicates, name="scan_duplicates"),
    path("duplicates/<int:pk>/dismiss/", merge_views.dismiss_duplicate, name="dismiss_duplicate"),
    path("merge/", merge_views.merge, name="merge"),
    path("merges/<int:pk>/", merge_views.merge_record, name="merge_record"),
    path("merges/<int:pk>/undo/", merge_views.undo_merge, name="undo_merge"),
    path("import/", import_export_views.import_upload, name="import"),
    path("import/template/<str:kind>.csv", import_export_views.import_template, name="import_template"),
    path("import/<int:pk>/", import_export_views.import_job, name="import_job"),
    path("import/<int:pk>/status/", import_export_views.import_job_status, name="import_job_status"),
    path("import/<int:pk>/confirm/", import_export_views.import_confirm, name="import_confirm"),
    path("import/<int:pk>/retry/", import_export_views.import_retry, name="import_retry"),
    path("import/<int:pk>/cancel/", import_export_views.import_cancel, name="import_cancel"),
    path("import/<int:pk>/rejected.csv", import_export_views.import_rejected_rows, name="import_rejected"),
    path("export/", import_export_views.export, name="export"),
    path("export/<int:pk>/", import_export_views.export_job, name="export_job"),
    path("export/<int:pk>/status/", import_export_views.export_job_status, name="export_job_status"),
    path("export/<int:pk>/retry/", import_export_views.export_retry, name="export_retry"),
    path("export/<int:pk>/cancel/", import_export_views.export_cancel, name="export_cancel"),
    path("export/<int:pk>/download/", import_export_views.export_download, name="export_download"),
]
