from django.urls import path

from customers.views import bulk, customers, imports, merge

app_name = "customers"
urlpatterns = [
    path("", customers.customer_list, name="list"),
    path("<int:pk>/", customers.customer_detail, name="detail"),
    path("<int:pk>/edit/", customers.edit_contact, name="edit"),
    path("<int:pk>/blacklist/", customers.blacklist, name="blacklist"),
    path("<int:pk>/unblacklist/", customers.unblacklist, name="unblacklist"),
    path("<int:pk>/notes/", customers.add_note, name="add_note"),
    path("<int:pk>/tags/", customers.add_tag, name="add_tag"),
    path("<int:pk>/tags/<int:tag_pk>/remove/", customers.remove_tag, name="remove_tag"),
    path("<int:pk>/payments/<int:payment_pk>/refund/", customers.refund, name="refund"),
    path("<int:pk>/verify-phone/", customers.verify_phone, name="verify_phone"),
    path("<int:pk>/delete/", customers.delete, name="delete"),
    path("<int:pk>/restore/", customers.restore, name="restore"),
    path("bulk/", bulk.bulk, name="bulk"),
    path("bulk/jobs/<int:pk>/", bulk.bulk_job, name="bulk_job"),
    *bulk.bulk_jobs.urls("bulk/jobs/"),
    path("duplicates/", merge.duplicates, name="duplicates"),
    path("duplicates/scan/", merge.scan_duplicates, name="scan_duplicates"),
    path("duplicates/<int:pk>/dismiss/", merge.dismiss_duplicate, name="dismiss_duplicate"),
    path("merge/", merge.merge, name="merge"),
    path("merges/<int:pk>/", merge.merge_record, name="merge_record"),
    path("merges/<int:pk>/undo/", merge.undo_merge, name="undo_merge"),
    path("import/", imports.import_upload, name="import"),
    path("import/template/<str:kind>.csv", imports.import_template, name="import_template"),
    path("import/<int:pk>/", imports.import_job, name="import_job"),
    path("import/<int:pk>/confirm/", imports.import_confirm, name="import_confirm"),
    *imports.import_jobs.urls("import/"),
    path("import/<int:pk>/rejected.csv", imports.import_rejected_rows, name="import_rejected"),
    path("export/", imports.export, name="export"),
    path("export/<int:pk>/", imports.export_job, name="export_job"),
    *imports.export_jobs.urls("export/"),
    path("export/<int:pk>/download/", imports.export_download, name="export_download"),
]
