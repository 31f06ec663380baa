"""Another app adds a field backed by its own data through register_field; RulesField turns
the grammar's messages into form errors and renders the builder with every field."""

import json
from datetime import timedelta

import pytest
from django import forms
from django.utils import timezone

from customers.models import Customer
from loyalty.models import CustomerLifetimeValue
from segments.rules import FIELDS, describe_fields, members, reference, register_field, related_field
from segments.rules.fields import TEXT
from segments.rules.forms import RulesField

NOW = timezone.now()


@pytest.fixture
def model_field():
    field = register_field(
        related_field(
            "clv_model",
            label="Lifetime value model",
            type=TEXT,
            model=CustomerLifetimeValue,
            column="model_version",
        )
    )
    yield field
    del FIELDS[field.name]


def lifetime_value(customer, model_version):
    return CustomerLifetimeValue.objects.create(
        business=customer.business,
        customer=customer,
        current=0,
        predicted_365d=10,
        expected_orders_365d=1,
        model_version=model_version,
        calculated_at=NOW - timedelta(days=1),
    )


def test_a_registered_field_selects_by_the_other_app_s_rows_as_the_reference_does(business, model_field):
    fitted = Customer.objects.create(business=business, phone="+14155550101")
    simple = Customer.objects.create(business=business, phone="+14155550102")
    never = Customer.objects.create(business=business, phone="+14155550103")
    lifetime_value(fitted, "bg-nbd-1")
    lifetime_value(simple, "simple")
    records = reference.records(business, at=NOW)
    expectations = [
        ({"operator": "equals", "value": "BG-NBD-1"}, {fitted.pk}),
        ({"operator": "contains", "value": "nbd"}, {fitted.pk}),
        ({"operator": "not_equals", "value": "simple"}, {fitted.pk, never.pk}),
        ({"operator": "is_set", "value": False}, {never.pk}),
    ]
    for rule, expected in expectations:
        rules = {"operator": "AND", "rules": [{"field": "clv_model", **rule}]}
        assert set(members(rules, business=business, at=NOW).values_list("pk", flat=True)) == expected
        assert {r["id"] for r in records if reference.matches(rules, r, at=NOW)} == expected
    assert "clv_model" in [field["name"] for field in describe_fields()]


def test_a_field_name_is_registered_once(model_field):
    with pytest.raises(ValueError, match="already registered"):
        register_field(model_field)


class SegmentForm(forms.Form):
    rules = RulesField(preview_url="/segments/preview/")


def test_the_form_field_cleans_the_rules_and_lists_each_problem():
    good = {"operator": "AND", "rules": [{"field": "tier", "operator": "equals", "value": "gold"}]}
    form = SegmentForm({"rules": json.dumps(good)})
    assert form.is_valid()
    assert form.cleaned_data["rules"] == {
        "operator": "AND",
        "rules": [{"field": "tier", "operator": "equals", "value": "GOLD"}],
    }
    bad = {"operator": "AND", "rules": [{"field": "tier", "operator": "equals"}, {"field": "nope"}]}
    form = SegmentForm({"rules": json.dumps(bad)})
    assert not form.is_valid()
    assert form.errors["rules"] == [
        "rules[0].value: a value is needed",
        "rules[1].field: there is no field “nope”",
    ]
    assert SegmentForm({"rules": ""}).errors["rules"] == ["This field is required."]


def test_the_widget_renders_the_textarea_the_fields_and_the_preview_url():
    good = {"operator": "AND", "rules": [{"field": "tier", "operator": "equals", "value": "GOLD"}]}
    html = str(SegmentForm(initial={"rules": good})["rules"])
    assert '<textarea name="rules" id="id_rules"' in html
    assert '<script id="id_rules-builder" type="application/json">' in html
    assert 'data-preview-url="/segments/preview/"' in html
    assert "&quot;field&quot;: &quot;tier&quot;" in html
    assert "<code>probability_alive</code>" in html  # the fields table shown without JavaScript
    assert "onclick" not in html and "style=" not in html
