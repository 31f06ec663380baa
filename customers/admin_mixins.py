"""django-import-export in the admin, scoped to the request's business."""

import contextvars
import re
import secrets
from contextlib import contextmanager

from django.contrib import messages
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpResponseRedirect
from django.urls import reverse
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from import_export.tmp_storages import BaseStorage

from customers import resources, services
from customers.bulk import tables

# "user id:business id" of the request the admin's import runs for.
upload_owner = contextvars.ContextVar("upload_owner")


@contextmanager
def uploads_of(request):
    business = request.business.pk if request.business else None
    token = upload_owner.set(f"{request.user.pk}:{business}")
    try:
        yield
    finally:
        upload_owner.reset(token)


class UploadRefused(Exception):
    """The confirmation names no upload of this user and business; the message is for the user."""


NOT_AN_UPLOAD = "This upload is not yours or not known: upload the file again."
UPLOAD_GONE = "This upload was imported already or is gone: upload the file again."


class AdminUploadStorage(BaseStorage):
    """Keeps an upload between the admin's dry run and its confirmation, under a random name
    in MEDIA_ROOT/admin-imports/. The name the confirmation form carries back is signed for
    the user and business that uploaded it: an edited name, another user's or another
    business's, or one whose file is gone, is refused (django-import-export's default reads
    whatever file of the system's temporary folder the form names)."""

    folder = "admin-imports"
    key_pattern = re.compile(r"[0-9a-f]{32}")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.signer = signing.Signer(salt=f"customers.admin-import:{upload_owner.get()}")

    def save(self, data):
        key = secrets.token_hex(16)
        default_storage.save(f"{self.folder}/{key}", ContentFile(data))
        self.name = self.signer.sign(key)

    def path(self):
        try:
            key = self.signer.unsign(self.name or "")
        except signing.BadSignature:
            raise UploadRefused(NOT_AN_UPLOAD) from None
        if not self.key_pattern.fullmatch(key):
            raise UploadRefused(NOT_AN_UPLOAD)
        return f"{self.folder}/{key}"

    def read(self):
        try:
            with default_storage.open(self.path(), "rb") as file:
                return file.read()
        except FileNotFoundError:
            raise UploadRefused(UPLOAD_GONE) from None

    def remove(self):
        default_storage.delete(self.path())


class BusinessImportExportMixin(ImportExportMixin):
    """Imports go into the request's business through the import service; exports are the
    admin's scoped queryset with formulas neutralized. Needs the model's import_<model> and
    export_<model> permissions (settings.IMPORT_EXPORT_*_PERMISSION_CODE)."""

    import_formats = [resources.CSVImport, resources.XLSXImport]
    export_formats = [base_formats.CSV, base_formats.XLSX]
    # The customers' timelines record what an import changed, with its actor.
    skip_admin_log = True
    tmp_storage_class = AdminUploadStorage

    def get_resource_kwargs(self, request, *args, **kwargs):
        return {"business": request.business, "actor": request.user, "import_rows": services.import_rows}

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, tables.ImportFileError):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def import_action(self, request, **kwargs):
        with uploads_of(request):
            return super().import_action(request, **kwargs)

    def process_import(self, request, **kwargs):
        info = self.get_model_info()
        import_page = HttpResponseRedirect(reverse(f"admin:{info[0]}_{info[1]}_import"))
        # Only the confirm form posts here; a plain visit goes back to the import form.
        if request.method != "POST":
            return import_page
        with uploads_of(request):
            try:
                return super().process_import(request, **kwargs)
            except UploadRefused as error:
                messages.error(request, str(error))
                return import_page
