from django import forms

from privacy.models import DataExport, Regulation


class SubjectRequestForm(forms.Form):
    regulation = forms.ChoiceField(choices=Regulation.choices, initial=Regulation.GDPR)
    subject_requested_on = forms.DateField(
        required=False,
        label="Person asked on",
        help_text="Empty: today. The legal due date counts from it.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(max_length=1000, widget=forms.TextInput(attrs={"size": 40}))


class ExportRequestForm(SubjectRequestForm):
    type = forms.ChoiceField(choices=DataExport.Type.choices, initial=DataExport.Type.GDPR_FULL)
    field_order = ["type", "regulation", "subject_requested_on", "reason"]


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=1000, label="Why rejected")


class AccessLogFilter(forms.Form):
    customer = forms.IntegerField(required=False, min_value=1, label="Customer id")
    user = forms.CharField(required=False, max_length=150, label="User name")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


class RetentionRuleForm(forms.Form):
    inactive_years = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=50,
        label="Review customers without an order for (years)",
        help_text="Empty: no review.",
    )
