from decimal import Decimal

from django import forms
from django.conf import settings
from django.forms.models import model_to_dict

from customers import choices, normalize, webhook_events
from customers.bulk.tables import ENCODINGS
from customers.models import BlacklistEntry, Customer, ImportJob, Tag, validate_tag_color
from customers.services import CONTACT_FIELDS, MERGE_FIELDS

NOT_SET = [("", "—")]


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
    language = forms.ChoiceField(choices=NOT_SET + choices.LANGUAGES, required=False)
    timezone = forms.ChoiceField(
        label="Time zone", choices=NOT_SET + [(name, name) for name in choices.TIME_ZONES], required=False
    )
    status = forms.ChoiceField(choices=Customer.Status.choices)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, initial=model_to_dict(customer, fields=CONTACT_FIELDS), **kwargs)
        self.customer = customer
        # Not contact data: the answer to the warning when the new phone moves the customer
        # to another country, (old, new) in `country_change`.
        self.fields["confirm_country_change"] = forms.BooleanField(label="Save anyway", required=False)
        self.country_change = None
        # A value saved before these lists existed stays selected, marked, until someone picks
        # another: an edit of other fields keeps it, and update_contact refuses any other.
        for name, known, noun in (
            ("language", choices.LANGUAGE_CODES, "language"),
            ("timezone", choices.TIME_ZONE_NAMES, "time zone"),
        ):
            stored = getattr(customer, name)
            if stored and stored not in known:
                field = self.fields[name]
                field.choices = [*field.choices, (stored, f"{stored} (not a {noun})")]
                field.help_text = f"“{stored}” is not a {noun} this list knows: choose one."

    def clean(self):
        cleaned = super().clean()
        confirmed = cleaned.get("confirm_country_change")
        if "phone" in self.changed_data and cleaned.get("phone") and not confirmed:
            self.check_country_change(cleaned["phone"])
        return cleaned

    def check_country_change(self, phone):
        try:
            new_phone = normalize.normalize_phone(phone, self.customer.business.default_country)
        except forms.ValidationError:
            return  # update_contact says what is wrong with it
        old, new = normalize.phone_country(self.customer.phone), normalize.phone_country(new_phone)
        if old and new and old != new:
            self.country_change = (old, new)
            self.add_error(
                "phone",
                f"This changes the customer's country from {old} to {new}. Tick “Save anyway” to save it.",
            )

    def changes(self):
        return {name: self.cleaned_data[name] for name in self.changed_data if name in CONTACT_FIELDS}


class BlacklistForm(forms.Form):
    reason = forms.ChoiceField(choices=[("", "Choose a reason…"), *BlacklistEntry.Reason.choices])
    note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2, "placeholder": "What happened?"})
    )

    def __init__(self, *args, unblacklisting=False, **kwargs):
        super().__init__(*args, **kwargs)
        if unblacklisting:
            reasons = BlacklistEntry.UnblacklistReason.choices
            self.fields["reason"].choices = [("", "Choose a reason…"), *reasons]


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Note", widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Add a note…"})
    )


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount",
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01"}),
    )
    reason = forms.CharField(
        label="Reason", max_length=1000, widget=forms.TextInput(attrs={"placeholder": "Why"})
    )


class TagForm(forms.Form):
    name = forms.CharField(
        label="Tag",
        max_length=50,
        # The profile's <datalist id="tag-suggestions"> holds the business's other tags.
        widget=forms.TextInput(
            attrs={"placeholder": "Tag name", "list": "tag-suggestions", "autocomplete": "off"}
        ),
    )
    color = forms.CharField(
        label="Colour of a new tag",
        required=False,
        initial=Tag._meta.get_field("color").default,
        validators=[validate_tag_color],
        widget=forms.TextInput(attrs={"type": "color"}),
    )


class BusinessSettingsForm(forms.Form):
    name = forms.CharField(max_length=200)
    default_country = forms.ChoiceField(
        choices=choices.COUNTRIES, help_text="Reads phone numbers typed without +country from now on."
    )
    currency = forms.CharField(
        min_length=3, max_length=3, help_text="ISO 4217, e.g. USD. Recorded orders keep their own currency."
    )
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=[(name, name) for name in choices.TIME_ZONES],
        help_text="Dates and times on every page are shown in it.",
    )
    api_requests_per_minute = forms.IntegerField(
        label="API calls per minute, per key",
        min_value=1,
        max_value=choices.MAX_API_REQUESTS_PER_MINUTE,
        help_text="A key that calls more often gets 429 Too Many Requests until the minute is over.",
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


class MergeForm(forms.Form):
    """The merge page: a survivor, one source record per profile field, and a reason."""

    survivor = forms.TypedChoiceField(coerce=int)
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Why are these the same person?"}),
    )

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(customer.pk, f"#{customer.pk}") for customer in customers]
        self.fields["survivor"].choices = choices
        for name in MERGE_FIELDS:
            self.fields[f"field_{name}"] = forms.TypedChoiceField(coerce=int, choices=choices, required=False)

    def field_choices(self):
        return {
            name: self.cleaned_data[f"field_{name}"]
            for name in MERGE_FIELDS
            if self.cleaned_data.get(f"field_{name}")
        }


class BulkTagForm(forms.Form):
    """The bulk action "Add a tag": its name (a tag of that name, in any case, is reused)."""

    name = forms.CharField(label="Tag", max_length=50)

    def __init__(self, *args, business, **kwargs):
        super().__init__(*args, **kwargs)


class BulkUntagForm(forms.Form):
    """The bulk action "Remove a tag": one of the business's tags."""

    tag_id = forms.TypedChoiceField(label="Tag", coerce=int)

    def __init__(self, *args, business, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tag_id"].choices = (
            Tag.objects.filter(business=business).order_by("name").values_list("pk", "name")
        )


class WebhookEndpointForm(forms.Form):
    """An endpoint on the settings page; services.create_endpoint / update_endpoint check it."""

    url = forms.CharField(
        label="URL", max_length=500, help_text="https://, where your system receives the events."
    )
    all_events = forms.BooleanField(label="Every event type", required=False)
    events = forms.MultipleChoiceField(
        label="Event types", choices=(), required=False, widget=forms.CheckboxSelectMultiple
    )
    secret = forms.CharField(
        max_length=200,
        required=False,
        help_text="Signs every delivery. Leave it empty to keep the current one.",
    )
    active = forms.BooleanField(required=False, initial=True)
    description = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["events"].choices = webhook_events.choices()

    def endpoint_fields(self):
        data = self.cleaned_data
        events = ["*"] if data["all_events"] else list(data["events"])
        return {
            "url": data["url"],
            "events": events,
            "secret": data["secret"] or None,
            "active": data["active"],
            "description": data["description"],
        }
