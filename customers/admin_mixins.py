"""django-import-export in the admin, scoped to the request's business."""

from django.http import HttpResponseRedirect
from django.urls import reverse
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats

from customers import imports, resources, services


class BusinessImportExportMixin(ImportExportMixin):
    """Imports go into the request's business through the import service; exports are the
    admin's scoped queryset with formulas neutralized. Needs the model's import_<model> and
    export_<model> permissions (settings.IMPORT_EXPORT_*_PERMISSION_CODE)."""

    import_formats = [resources.CSVImport, resources.XLSXImport]
    export_formats = [base_formats.CSV, base_formats.XLSX]
    # The customers' timelines record what an import changed, with its actor.
    skip_admin_log = True

    def get_resource_kwargs(self, request, *args, **kwargs):
        return {"business": request.business, "actor": request.user, "import_rows": services.import_rows}

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, imports.ImportFileError):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def process_import(self, request, **kwargs):
        # Only the confirm form posts here; a plain visit goes back to the import form.
        if request.method != "POST":
            info = self.get_model_info()
            return HttpResponseRedirect(reverse(f"admin:{info[0]}_{info[1]}_import"))
        return super().process_import(request, **kwargs)
