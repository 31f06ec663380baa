from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from customers import services
from customers.models import Activity, ApiKey, BlacklistEntry, Customer, Order, Tag

CHANGELIST = "/admin/customers/customer/"


@pytest.fixture
def customers(business):
    return [
        services.get_or_create_customer(business=business, phone=f"+1415555{n:04d}", first_name=f"Ann{n}")[0]
        for n in range(101, 104)
    ]


def test_blacklist_action_asks_for_a_reason_then_blacklists_each(customers, support, client_for):
    client = client_for(support)
    selected = {"action": "blacklist_selected", ACTION_CHECKBOX_NAME: [c.pk for c in customers[:2]]}

    page = client.post(CHANGELIST, selected)
    assert page.status_code == 200 and b'name="reason"' in page.content
    assert not Customer.objects.filter(is_blacklisted=True).exists()

    client.post(CHANGELIST, {**selected, "apply": "1", "reason": "fraud", "note": "chargebacks"})
    assert set(Customer.objects.filter(is_blacklisted=True)) == set(customers[:2])
    entry = BlacklistEntry.objects.get(customer=customers[0])
    assert (entry.reason, entry.note, entry.actor) == ("fraud", "chargebacks", support)


def test_owner_cannot_blacklist_through_the_admin(customers, owner, client_for):
    response = client_for(owner).post(
        CHANGELIST,
        {
            "action": "blacklist_selected",
            ACTION_CHECKBOX_NAME: [customers[0].pk],
            "apply": "1",
            "reason": "fraud",
        },
    )
    assert response.status_code in (200, 302, 403)
    assert not Customer.objects.filter(is_blacklisted=True).exists()


def test_editing_a_customer_in_the_admin_goes_through_the_service(customers, support, client_for):
    customer = customers[0]
    form = {field: getattr(customer, field) or "" for field in services.CONTACT_FIELDS}
    form.update(first_name="Annabel", phone="(415) 555-0101", **_empty_inlines())
    response = client_for(support).post(f"{CHANGELIST}{customer.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert customer.first_name == "Annabel" and customer.phone == "+14155550101"
    change = Activity.objects.get(customer=customer, kind=Activity.Kind.CONTACT_UPDATED)
    assert change.data["changes"] == {"first_name": ["Ann101", "Annabel"]} and change.actor == support


def test_deleting_in_the_admin_is_a_soft_delete(customers, owner, client_for):
    customer = customers[0]
    client_for(owner).post(f"{CHANGELIST}{customer.pk}/delete/", {"post": "yes"})
    customer.refresh_from_db()
    assert customer.deleted_at is not None
    assert Activity.objects.filter(customer=customer, kind=Activity.Kind.DELETED).exists()


def test_changing_an_order_status_in_the_admin_keeps_stats_exact(business, support, client_for):
    recorded = services.record_order(
        business=business, external_id="A-1", phone="+14155550111", amount="40.00"
    )
    order = recorded.order
    response = client_for(support).post(
        f"/admin/customers/order/{order.pk}/change/", {"status": "refunded", **_empty_inlines("items")}
    )
    assert response.status_code == 302
    order.customer.refresh_from_db()
    assert (order.customer.order_count, order.customer.total_spent) == (0, Decimal("0"))
    assert Order.objects.get(pk=order.pk).status == "refunded"


def test_api_keys_are_shown_once_and_stored_hashed(business, owner, client_for):
    client = client_for(owner)
    response = client.post(
        "/admin/customers/apikey/add/", {"name": "POS", "scopes": ["orders:write"]}, follow=True
    )
    api_key = ApiKey.objects.get(business=business)
    secret = next(str(m).split(": ")[-1] for m in response.context["messages"] if "shown once" in str(m))
    assert secret not in api_key.hashed_secret and services.authenticate_api_key(secret) == api_key

    client.post("/admin/customers/apikey/", {"action": "revoke_selected", ACTION_CHECKBOX_NAME: [api_key.pk]})
    assert services.authenticate_api_key(secret) is None


def test_admin_lists_and_filters_only_the_current_business(customers, other_business, support, client_for):
    services.tag_customer(customer=customers[0], name="VIP", actor=None)
    foreign, _ = services.get_or_create_customer(
        business=other_business, phone="+447911123456", first_name="Zed"
    )
    services.tag_customer(customer=foreign, name="Secret tag", actor=None)

    response = client_for(support).get(CHANGELIST)
    shown = {row.pk for row in response.context["cl"].result_list}
    assert shown == {c.pk for c in customers}
    assert b"Secret tag" not in response.content and b"VIP" in response.content
    assert Tag.objects.count() == 2


def _empty_inlines(*prefixes):
    prefixes = prefixes or ("accounts", "dropoffs", "notes")
    data = {}
    for prefix in prefixes:
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": 0,
                f"{prefix}-INITIAL_FORMS": 0,
                f"{prefix}-MIN_NUM_FORMS": 0,
                f"{prefix}-MAX_NUM_FORMS": 1000,
            }
        )
    return data


def test_platform_staff_find_a_person_in_every_business_by_phone_in_any_format(
    business, other_business, django_user_model, client_for
):
    here, _ = services.get_or_create_customer(business=business, phone="+14155550123", first_name="Ann")
    there, _ = services.get_or_create_customer(
        business=other_business, phone="+14155550123", first_name="Ann"
    )
    services.get_or_create_customer(business=business, phone="+14155550999", first_name="Bob")
    admin_user = django_user_model.objects.create_superuser("platform", password="pw-for-tests-1")

    response = client_for(admin_user).get(CHANGELIST, {"q": "(415) 555-0123"})

    assert {row.pk for row in response.context["cl"].result_list} == {here.pk, there.pk}


def test_staff_phone_search_in_the_admin_stays_in_their_business(
    business, other_business, support, client_for
):
    here, _ = services.get_or_create_customer(business=business, phone="+14155550123", first_name="Ann")
    services.get_or_create_customer(business=other_business, phone="+14155550123", first_name="Ann")

    response = client_for(support).get(CHANGELIST, {"q": "415 555 0123"})

    assert [row.pk for row in response.context["cl"].result_list] == [here.pk]
