"""The /loyalty/ page, its what-if, the override forms and the list's tier filter and sort."""

import pytest
from django.utils import timezone

from customers.models import Customer
from loyalty.models import TierChange, TierConfigAudit, TierState
from loyalty.tests.factories import configure, order, recalculate

FORM = {
    "silver_spend": "50",
    "silver_period": "lifetime",
    "gold_spend": "",
    "gold_visits": "",
    "gold_period": "lifetime",
    "platinum_period": "lifetime",
    "grace_days": "90",
}


@pytest.fixture
def customers(business):
    configure(business, silver={"spend": "500.00"})
    return [order(business, "+14155550101", "60.00"), order(business, "+14155550102", "10.00")]


def test_only_owners_open_the_loyalty_page(client_for, owner, support, compliance):
    assert client_for(owner).get("/loyalty/").status_code == 200
    assert client_for(support).get("/loyalty/").status_code == 403
    assert client_for(compliance).post("/loyalty/what-if/", FORM).status_code == 403


def test_the_preview_button_shows_the_what_if_and_saves_nothing(client_for, owner, customers):
    response = client_for(owner).post("/loyalty/", {**FORM, "preview": "1"})

    body = response.content.decode()
    assert "1 customers move up, 0 move down" in body
    assert response.context["preview"]["tiers"]["SILVER"] == 1
    assert not TierConfigAudit.objects.exists()


def test_a_preview_over_a_rolling_period_says_as_of_which_recalculation(
    client_for, owner, business, customers
):
    job = recalculate(business)
    started = timezone.localtime(job.started_at)

    response = client_for(owner).post("/loyalty/", {**FORM, "silver_period": "monthly", "preview": "1"})

    assert (
        f"Rolling periods count the figures of the last recalculation ({started:%Y-%m-%d %H:%M})"
        in response.content.decode()
    )


def test_the_live_what_if_answers_json_and_form_errors_as_400(client_for, owner, customers):
    client = client_for(owner)

    preview = client.post("/loyalty/what-if/", FORM).json()
    refused = client.post("/loyalty/what-if/", {**FORM, "gold_spend": "10"})

    assert (preview["up"], preview["down"], preview["tiers"]["SILVER"]) == (1, 0, 1)
    assert refused.status_code == 400 and "gold" in str(refused.json()["errors"])


def test_saving_needs_a_reason_then_audits_and_recalculates(
    client_for, owner, customers, django_capture_on_commit_callbacks
):
    client = client_for(owner)
    refused = client.post("/loyalty/", {**FORM, "save": "1"})
    assert "Say why the tiers change." in refused.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post("/loyalty/", {**FORM, "save": "1", "reason": "Summer"}, follow=True)

    body = saved.content.decode()
    assert "Tier configuration saved" in body and "Summer" in body
    # The recalculation ran once the save committed.
    assert "Done: 2 customers recalculated." in client.get("/loyalty/").content.decode()
    assert Customer.objects.get(pk=customers[0].pk).tier == "SILVER"
    assert TierConfigAudit.objects.get().changed_by == owner


def test_the_page_shows_the_distribution(client_for, owner, customers):
    distribution = client_for(owner).get("/loyalty/").context["distribution"]

    assert [(row["tier"], row["customers"]) for row in distribution] == [
        ("BRONZE", 2),
        ("SILVER", 0),
        ("GOLD", 0),
        ("PLATINUM", 0),
    ]


def test_an_owner_overrides_a_customer_from_the_profile_and_removes_it(client_for, owner, customers):
    ann = customers[0]
    client = client_for(owner)

    client.post(
        f"/loyalty/customers/{ann.pk}/override/", {"tier": "GOLD", "reason": "Partner", "expires_at": ""}
    )
    assert Customer.objects.get(pk=ann.pk).tier == "GOLD"
    assert TierState.objects.get(customer=ann).override_reason == "Partner"

    response = client.post(f"/loyalty/customers/{ann.pk}/override/", {"remove": "1"}, follow=True)
    assert "Override removed" in response.content.decode()
    assert Customer.objects.get(pk=ann.pk).tier == "BRONZE"
    assert list(TierChange.objects.filter(customer=ann).values_list("cause", flat=True).order_by("id")) == [
        "override",
        "override_expired",
    ]


def test_an_override_without_a_reason_is_refused_with_a_message(client_for, owner, customers):
    ann = customers[0]
    response = client_for(owner).post(f"/loyalty/customers/{ann.pk}/override/", {"tier": "GOLD"}, follow=True)

    assert "required" in response.content.decode()
    assert not TierState.objects.exists()


def test_the_bulk_override_takes_the_picked_ids_or_the_list_filter(client_for, owner, customers, business):
    client = client_for(owner)
    ann, bob = customers

    picked = client.get(f"/loyalty/overrides/?ids={bob.pk}")
    assert picked.context["count"] == 1
    client.post(f"/loyalty/overrides/?ids={bob.pk}", {"tier": "PLATINUM", "reason": "Staff"})
    assert Customer.objects.get(pk=bob.pk).tier == "PLATINUM"

    client.post("/loyalty/overrides/?spent_min=1", {"tier": "GOLD", "reason": "Everyone"})
    assert set(Customer.objects.values_list("tier", flat=True)) == {"GOLD"}


def test_the_list_filters_and_sorts_by_tier(client_for, owner, business):
    configure(business, silver={"spend": "50.00"}, gold={"spend": "100.00"}, platinum={"spend": "1000.00"})
    gold = order(business, "+14155550101", "150.00")
    silver = order(business, "+14155550102", "60.00")
    bronze = order(business, "+14155550103", "1.00")
    platinum = order(business, "+14155550104", "2000.00")
    client = client_for(owner)

    by_tier = client.get("/customers/", {"o": "-tier"}).context["page_obj"]
    only_silver = client.get("/customers/", {"tier": "SILVER"}).context["page_obj"]

    assert [c.pk for c in by_tier] == [platinum.pk, gold.pk, silver.pk, bronze.pk]
    assert [c.pk for c in only_silver] == [silver.pk]
    assert [c.pk for c in client.get("/customers/", {"o": "tier"}).context["page_obj"]][0] == bronze.pk


def test_the_profile_shows_the_grace_the_progress_the_lifetime_value_and_to_owners_the_override_form(
    client_for, owner, support, business
):
    import datetime as dt

    from django.utils import timezone

    configure(business, silver={"spend": "50.00"}, gold={"spend": "200.00"})
    ann = order(business, "+14155550101", "60.00")
    TierState.objects.create(customer=ann, below_since=timezone.now() - dt.timedelta(days=10))
    Customer.objects.filter(pk=ann.pk).update(tier="GOLD")
    url = f"/customers/{ann.pk}/"

    html = client_for(owner).get(url).content.decode()
    assert "Loyalty: Gold" in html
    assert "Drops to Silver on " in html
    assert "Progress to Platinum" not in html  # no platinum threshold is set
    assert "Not computed yet" in html
    assert f'action="/loyalty/customers/{ann.pk}/override/"' in html

    support_html = client_for(support).get(url).content.decode()
    assert "Drops to Silver on " in support_html
    assert "/override/" not in support_html
