"""The rules of a segment in a Django form: `RulesField` validates with `clean_rules` (its
messages become the field's errors) and renders `RuleBuilderWidget`, the rule builder of
templates/segments/rule_builder.html and static/js/segment-builder.js.

    rules = RulesField(preview_url=reverse("segments:preview"))

Without JavaScript the builder is the JSON textarea it keeps up to date."""

import json

from django import forms
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string

from segments.rules.fields import OPERATOR_LABELS, TIMEFRAME_LABELS, describe_fields
from segments.rules.grammar import RuleError, clean_rules


def builder_context(name, value, *, id=None, preview_url=None):
    """What templates/segments/rule_builder.html needs: the form field's name, the rules (a
    dict, or JSON text as posted), the textarea's id and the optional preview URL."""
    if value is not None and not isinstance(value, str):
        value = json.dumps(value, indent=2)
    id = id or f"id_{name}"
    return {
        "name": name,
        "id": id,
        "builder_id": f"{id}-builder",
        "value": value or "",
        "preview_url": preview_url,
        "builder": {
            "fields": describe_fields(),
            "operators": OPERATOR_LABELS,
            "timeframes": TIMEFRAME_LABELS,
        },
    }


class RuleBuilderWidget(forms.Widget):
    def __init__(self, attrs=None, preview_url=None):
        super().__init__(attrs)
        self.preview_url = preview_url

    def render(self, name, value, attrs=None, renderer=None):
        element_id = (attrs or {}).get("id") or self.attrs.get("id")
        context = builder_context(name, value, id=element_id, preview_url=self.preview_url)
        return render_to_string("segments/rule_builder.html", context)

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class RulesField(forms.Field):
    widget = RuleBuilderWidget

    def __init__(self, *, preview_url=None, **kwargs):
        super().__init__(**kwargs)
        self.widget.preview_url = preview_url

    def to_python(self, value):
        if value in (None, ""):
            return None
        try:
            return clean_rules(value)
        except RuleError as error:
            raise ValidationError(error.messages, code="invalid_rules") from None
