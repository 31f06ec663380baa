from django import forms
from django.conf import settings
from django.forms.models import model_to_dict

from customers import normalize
from customers.imports import ENCODINGS
from customers.models import BlacklistEntry, Customer, ImportJob
from customers.services import CONTACT_FIELDS


class IsoDateField(forms.DateField):
    """A date as a date input sends it, YYYY-MM-DD in the digits 0-9 (normalize.parse_date)."""

    def to_python(self, value):
        if isinstance(value, str) and value.strip():
            value = normalize.parse_date(value)
        return super().to_python(value)


class ContactForm(forms.Form):
    """The contact fields of a customer. services.update_contact normalizes the phone and
    checks the rest, so this form only reads the input."""

    phone = forms.CharField(
        max_length=40, help_text="Any format; numbers without +country use the business's country."
    )
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    preferred_name = forms.CharField(max_length=100, required=False)
    email = forms.EmailField(max_length=Customer._meta.get_field("email").max_length, required=False)
    date_of_birth = IsoDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    language = forms.CharField(max_length=10, required=False, help_text="e.g. en, es, de-CH")
    timezone = forms.CharField(max_length=64, required=False, help_text="e.g. America/New_York")
    status = forms.ChoiceField(choices=Customer.Status.choices)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, initial=model_to_dict(customer, fields=CONTACT_FIELDS), **kwargs)

    def changes(self):
        return {name: self.cleaned_data[name] for name in self.changed_data}


class BlacklistForm(forms.Form):
    reason = forms.ChoiceField(choices=[("", "Choose a reason…"), *BlacklistEntry.Reason.choices])
    note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2, "placeholder": "What happened?"})
    )


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Note", widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Add a note…"})
    )


class TagForm(forms.Form):
    name = forms.CharField(
        label="Tag", max_length=50, widget=forms.TextInput(attrs={"placeholder": "Tag name"})
    )


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label="What the file holds", choices=ImportJob.Kind.choices)
    file = forms.FileField(help_text="CSV or XLSX; the first row names the columns (see the templates).")
    encoding = forms.ChoiceField(label="Text encoding (CSV)", choices=ENCODINGS.items(), initial="auto")
    valid_only = forms.BooleanField(
        label="Import the valid rows only",
        required=False,
        help_text="Without this, a file with any wrong row imports nothing.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"The file is larger than the limit of {settings.IMPORT_MAX_FILE_BYTES // (1024 * 1024)} MB."
            )
        return upload
