"""Forms of the preferences part of privacy: a customer's preferences (support, from the
profile), the business's sign-up opt-in (owners) and the consent history search."""

from django import forms

from privacy.models import (
    CONSENT_FIELDS,
    LABELS,
    Channel,
    CommunicationPreference,
    ConsentEvent,
    PrivacySettings,
    Purpose,
)
from privacy.queries.preferences import time_zone_names

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class PreferencesForm(forms.Form):
    """Support's edit of a customer's preferences; the service writes an event per consent changed."""

    SOURCES = [
        (ConsentEvent.Source.STAFF, "Staff (changed on the customer's behalf)"),
        (ConsentEvent.Source.CUSTOMER_REQUEST, "Customer request (they asked, by phone, email or in person)"),
    ]

    email_marketing = forms.BooleanField(label=LABELS["email_marketing"], required=False)
    sms_marketing = forms.BooleanField(label=LABELS["sms_marketing"], required=False)
    push_notifications = forms.BooleanField(label=LABELS["push_notifications"], required=False)
    promotional_offers = forms.BooleanField(label=LABELS["promotional_offers"], required=False)
    newsletter_subscription = forms.BooleanField(label=LABELS["newsletter_subscription"], required=False)
    survey_invitations = forms.BooleanField(label=LABELS["survey_invitations"], required=False)
    loyalty_updates = forms.BooleanField(label=LABELS["loyalty_updates"], required=False)
    transaction_receipts = forms.BooleanField(label=LABELS["transaction_receipts"], required=False)
    frequency = forms.ChoiceField(choices=CommunicationPreference.Frequency.choices)
    preferred_channel = forms.ChoiceField(choices=CommunicationPreference.PreferredChannel.choices)
    timezone = forms.CharField(
        label="Time zone",
        max_length=64,
        required=False,
        help_text="E.g. Europe/Paris; empty for the customer's own",
    )
    quiet_hours_start = forms.TimeField(required=False, widget=TIME)
    quiet_hours_end = forms.TimeField(required=False, widget=TIME)
    source = forms.ChoiceField(choices=SOURCES, initial=ConsentEvent.Source.STAFF)
    evidence = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        help_text="Required to grant a consent: what the customer was told or said, and how (call, email...)",
    )

    def __init__(self, *args, record=None, **kwargs):
        if record is not None:
            names = [*CONSENT_FIELDS, "frequency", "preferred_channel", "timezone"]
            kwargs.setdefault("initial", {name: getattr(record, name) for name in names})
            kwargs["initial"].update(
                quiet_hours_start=record.quiet_hours_start, quiet_hours_end=record.quiet_hours_end
            )
        super().__init__(*args, **kwargs)

    def clean_timezone(self):
        value = self.cleaned_data["timezone"].strip()
        if value and value not in time_zone_names():
            raise forms.ValidationError("Enter a time zone name such as Europe/Paris.")
        return value

    def changes(self):
        return {
            name: value for name, value in self.cleaned_data.items() if name not in ("source", "evidence")
        }

    def add_service_errors(self, error):
        for field, messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)


class PrivacySettingsForm(forms.ModelForm):
    class Meta:
        model = PrivacySettings
        fields = [
            "signup_email_marketing",
            "signup_sms_marketing",
            "signup_push_notifications",
            "signup_wording",
        ]
        widgets = {"signup_wording": forms.Textarea(attrs={"rows": 3})}


class ConsentSearchForm(forms.Form):
    q = forms.CharField(label="Customer", required=False, max_length=100, help_text="Phone or name")
    purpose = forms.ChoiceField(choices=[("", "Any purpose"), *Purpose.choices], required=False)
    channel = forms.ChoiceField(choices=[("", "Any channel"), *Channel.choices], required=False)
    source = forms.ChoiceField(choices=[("", "Any source"), *ConsentEvent.Source.choices], required=False)
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
