from django import forms

from customers import services


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
        for name in services.MERGE_FIELDS:
            self.fields[f"field_{name}"] = forms.TypedChoiceField(coerce=int, choices=choices, required=False)

    def field_choices(self):
        return {
            name: self.cleaned_data[f"field_{name}"]
            for name in services.MERGE_FIELDS
            if self.cleaned_data.get(f"field_{name}")
        }
