"""What the subject's data export takes from preferences: the record and every consent event."""

import json

import pytest

from privacy import queries
from privacy.tests.factories import customer, grant, withdraw

pytestmark = pytest.mark.django_db


def test_the_export_sections_hold_the_preferences_and_the_whole_consent_history(business, support):
    ann = customer(business)
    assert queries.preferences_export(ann) is None and queries.consents_export(ann) == []
    grant(ann, "email_marketing", actor=support, evidence="Ticked the box")
    withdraw(ann, "email_marketing")

    preferences = queries.preferences_export(ann)
    consents = queries.consents_export(ann)

    assert preferences["email_marketing"] is False and preferences["timezone"] == "UTC"
    assert [(c["action"], c["source"], c["evidence"]) for c in consents] == [
        ("granted", "staff", "Ticked the box"),
        ("withdrawn", "customer_request", ""),
    ]
    json.dumps({"preferences": preferences, "consents": consents})  # JSON as they are
