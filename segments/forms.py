import json

from django import forms

from segments.models import Segment


class SegmentForm(forms.Form):
    """Name, description, kind (on creation only) and the rules as JSON, which the rule
    builder (templates/segments/rule_builder.html) writes; the service checks the rules."""

    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    kind = forms.ChoiceField(choices=Segment.Kind.choices, initial=Segment.Kind.DYNAMIC)
    active = forms.BooleanField(
        required=False, initial=True, help_text="Inactive segments are not kept up to date"
    )
    rules = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "rules-json"}),
        help_text='The rules as JSON: {"operator": "AND", "rules": [{"field", "operator", "value"}]}',
    )

    def __init__(self, *args, segment=None, **kwargs):
        if segment is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": segment.name,
                    "description": segment.description,
                    "kind": segment.kind,
                    "active": segment.active,
                    "rules": json.dumps(segment.rules, indent=2) if segment.rules else "",
                },
            )
        super().__init__(*args, **kwargs)
        if segment is not None:
            self.fields["kind"].disabled = True

    def clean_rules(self):
        text = self.cleaned_data["rules"].strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise forms.ValidationError("The rules are not valid JSON.") from None

    def add_service_errors(self, error):
        for field, messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)


class PhonesFileForm(forms.Form):
    file = forms.FileField(
        label="CSV of phones", help_text="A column named “phone”; other columns are ignored."
    )


class StaticSegmentForm(forms.Form):
    """The bulk actions "Add to / Remove from a static segment": which one."""

    segment_id = forms.TypedChoiceField(label="Static segment", coerce=int)

    def __init__(self, *args, business, **kwargs):
        super().__init__(*args, **kwargs)
        static = Segment.objects.live().filter(business=business, kind=Segment.Kind.STATIC)
        self.fields["segment_id"].choices = static.values_list("pk", "name")
