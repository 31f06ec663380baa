from django import forms

from segments.models import Segment
from segments.rules.forms import RulesField


class SegmentForm(forms.Form):
    """Name, description, kind (on creation only), active, and the rules with their builder."""

    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    kind = forms.ChoiceField(choices=Segment.Kind.choices, initial=Segment.Kind.DYNAMIC)
    active = forms.BooleanField(
        required=False, initial=True, help_text="Inactive segments are not kept up to date"
    )
    # The rule builder; its count-only preview is left out: the page previews the count and
    # the first members (static/js/segment_preview.js).
    rules = RulesField(required=False)

    def __init__(self, *args, segment=None, **kwargs):
        if segment is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": segment.name,
                    "description": segment.description,
                    "kind": segment.kind,
                    "active": segment.active,
                    "rules": segment.rules or None,
                },
            )
        super().__init__(*args, **kwargs)
        if segment is not None:
            self.fields["kind"].disabled = True

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
