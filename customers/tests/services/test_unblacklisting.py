import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError

from customers import services
from customers.models import BlacklistEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(business, support):
    customer = services.get_or_create_customer(business=business, phone="+14155550101", first_name="Ann")[0]
    services.blacklist_customer(customer=customer, reason="false_claims", actor=support)
    customer.refresh_from_db()
    return customer


def test_the_profile_of_a_blacklisted_customer_offers_the_un_blacklisting_reasons(client_for, support, ann):
    body = client_for(support).get(f"/customers/{ann.pk}/").content.decode()
    form = body[body.index(f'action="/customers/{ann.pk}/unblacklist/"') :]
    form = form[: form.index("</form>")]
    for value, label in BlacklistEntry.UnblacklistReason.choices:
        assert f'<option value="{value}">{label}</option>' in form
    assert 'value="false_claims"' not in form and 'value="fraud"' not in form


def test_un_blacklisting_with_its_reason_reads_so_in_the_timeline(client_for, support, ann):
    response = client_for(support).post(
        f"/customers/{ann.pk}/unblacklist/", {"reason": "appeal_accepted", "note": "Photos"}, follow=True
    )
    body = response.content.decode()
    assert "Ann is removed from the blacklist." in body
    assert "Un-blacklisted</span> Reason: Appeal accepted · “Photos”" in " ".join(body.split())
    assert "Un-blacklisted: Appeal accepted" in body  # the blacklist history
    ann.refresh_from_db()
    assert not ann.is_blacklisted


def test_un_blacklisting_refuses_a_blacklisting_reason(client_for, support, ann):
    response = client_for(support).post(
        f"/customers/{ann.pk}/unblacklist/", {"reason": "false_claims"}, follow=True
    )
    assert "Reason: Select a valid choice." in response.content.decode()
    with pytest.raises(ValidationError):
        services.unblacklist_customer(customer=ann, reason="fraud", actor=support)
    ann.refresh_from_db()
    assert ann.is_blacklisted


def test_blacklisting_refuses_an_un_blacklisting_reason(business, support):
    bob = services.get_or_create_customer(business=business, phone="+14155550102")[0]
    with pytest.raises(ValidationError):
        services.blacklist_customer(customer=bob, reason="appeal_accepted", actor=support)


def test_older_un_blacklisting_rows_keep_their_blacklisting_reason(client_for, support, ann):
    BlacklistEntry.objects.create(
        business=ann.business, customer=ann, action="unblacklisted", reason="false_claims", actor=support
    )
    body = client_for(support).get(f"/customers/{ann.pk}/").content.decode()
    assert "Un-blacklisted: False claims" in body


def test_the_admin_un_blacklist_action_asks_for_an_un_blacklisting_reason(client_for, support, ann):
    client = client_for(support)
    selected = {"action": "unblacklist_selected", ACTION_CHECKBOX_NAME: [ann.pk]}
    page = client.post("/admin/customers/customer/", selected).content.decode()
    assert '<option value="mistake">Mistake</option>' in page and 'value="fraud"' not in page

    client.post("/admin/customers/customer/", {**selected, "apply": "1", "reason": "mistake"})
    assert ann.blacklist_entries.values_list("action", "reason")[0] == ("unblacklisted", "mistake")
