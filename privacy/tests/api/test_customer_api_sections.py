"""What privacy adds to the API's customers endpoints: the profile's `preferences`, and the
access log of what the key read."""

from customers.signals import LIST_VIEWED, PROFILE_VIEWED
from privacy import services
from privacy.models import AccessLog


def test_the_profile_has_the_customer_s_preferences(api, api_key, zeb, owner):
    services.update_preferences(
        customer=zeb,
        changes={"sms_marketing": True},
        source="staff",
        evidence="Asked at the till",
        actor=owner,
    )

    preferences = api("get", f"/api/v1/customers/{zeb.pk}", api_key).json()["preferences"]

    assert preferences == api("get", f"/api/v1/customers/{zeb.pk}/preferences", api_key).json()
    assert (preferences["sms_marketing"], preferences["email_marketing"]) == (True, False)


def test_a_customer_without_a_record_shows_the_defaults(api, api_key, zeb):
    preferences = api("get", f"/api/v1/customers/{zeb.pk}", api_key).json()["preferences"]

    assert (preferences["transaction_receipts"], preferences["sms_marketing"]) == (True, False)
    assert preferences["timezone"] == (zeb.timezone or zeb.business.timezone or "UTC")


def test_the_list_and_the_profile_read_by_a_key_are_in_the_access_log(api, api_key, zeb, business):
    api("get", "/api/v1/customers?q=zebedee", api_key)
    api("get", f"/api/v1/customers/{zeb.pk}", api_key)

    listed, viewed = AccessLog.objects.order_by("pk")
    assert (listed.what, listed.customer_ids, listed.query, listed.actor) == (
        LIST_VIEWED,
        AccessLog.ids_text([zeb.pk]),
        "q=zebedee",
        None,
    )
    assert (viewed.what, viewed.customer_ids) == (PROFILE_VIEWED, AccessLog.ids_text([zeb.pk]))
    assert listed.api_key.business == viewed.api_key.business == business
