import pytest
from django.apps import apps

from customers import merge_registry
from customers.models import Customer


def foreign_keys_to_customer():
    return {
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models(include_auto_created=True)
        for field in model._meta.get_fields()
        if field.concrete
        and field.is_relation
        and field.related_model is Customer
        and (field.many_to_one or field.one_to_one)
    }


def test_the_merge_handles_exactly_the_foreign_keys_to_customer_that_exist():
    """Every app's foreign keys to Customer are registered (apps register theirs in ready()),
    and no entry names a foreign key that is gone or misspelt."""
    assert set(merge_registry.MERGE_HANDLING) == foreign_keys_to_customer()


@pytest.fixture
def registry(monkeypatch):
    handling = dict(merge_registry.MERGE_HANDLING)
    monkeypatch.setattr(merge_registry, "MERGE_HANDLING", handling)
    return handling


def test_another_app_registers_its_foreign_key_to_customer(registry):
    merge_registry.register("loyalty.PointsEntry.customer")
    merge_registry.register("privacy.AccessLog.customer", merge_registry.KEEP)
    merge_registry.register("loyalty.PointsEntry.customer")

    assert registry["loyalty.PointsEntry.customer"] == merge_registry.MOVE
    assert registry["privacy.AccessLog.customer"] == merge_registry.KEEP


@pytest.mark.parametrize(
    "label, handling, message",
    [
        ("customers.Order.customer", merge_registry.KEEP, "registered already, as move"),
        ("loyalty.PointsEntry.customer", merge_registry.SPECIAL, "not “special”"),
        ("loyalty.PointsEntry", merge_registry.MOVE, "not of the form app_label.Model.field"),
    ],
)
def test_a_registration_that_contradicts_or_cannot_be_handled_is_refused(registry, label, handling, message):
    before = dict(registry)
    with pytest.raises(ValueError, match=message):
        merge_registry.register(label, handling)
    assert registry == before
