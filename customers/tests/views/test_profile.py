import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers import services
from customers.forms import ContactForm
from customers.models import Activity, BlacklistEntry, Customer, Membership, Note, Payment, Tag
from customers.queries import ORDERS_PER_PAGE, TIMELINE_PER_PAGE

pytestmark = pytest.mark.django_db


def record(business, external_id, phone="+14155550101", placed_at=None, **extra):
    return services.record_order(
        business=business,
        external_id=external_id,
        phone=phone,
        amount="40.00",
        placed_at=placed_at or timezone.now(),
        items=[
            {"sku": "P1", "name": "Pizza", "quantity": 2, "price": "15.00"},
            {"sku": "D1", "name": "Soda", "quantity": 1, "price": "10.00"},
        ],
        **extra,
    ).order


@pytest.fixture
def ann(business):
    order = record(
        business,
        "A-1",
        first_name="Ann",
        last_name="Lee",
        email="ann@example.com",
        source="doordash",
        placed_at=timezone.now() - dt.timedelta(days=3),
        address={"street": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"},
    )
    services.link_account(
        business=business, phone="+14155550101", provider="shopify", email="ann.shop@store.io"
    )
    return order.customer


def card(transaction_id, amount, method="card", status="succeeded"):
    return {"transaction_id": transaction_id, "amount": amount, "method": method, "status": status}


def profile(client, customer, **params):
    return client.get(f"/customers/{customer.pk}/", params)


def timeline(response):
    return [activity.kind for activity in response.context["timeline"]]


# The page ---------------------------------------------------------------------------------


def test_profile_shows_everything_about_the_customer(client_for, support, business, ann):
    services.tag_customer(customer=ann, name="VIP", color="#0ea5e9", actor=support)
    services.add_note(customer=ann, body="Prefers SMS.", actor=support)
    services.add_address(
        customer=ann, address={"street": "9 Bill Rd", "city": "Springfield"}, kind="billing", actor=support
    )
    record(business, "A-2", placed_at=timezone.now() - dt.timedelta(days=1))

    response = profile(client_for(support), ann)
    body = response.content.decode()
    for text in (
        "Ann Lee",
        "+14155550101",
        "ann@example.com",  # identity and contact
        "shopify",
        "ann.shop@store.io",  # accounts
        "1 Main St, Springfield, 12345, US",
        "Default shipping",
        "9 Bill Rd",
        "Default billing",  # addresses
        "A-1",
        "A-2",
        "2 × Pizza",
        "1 × Soda",
        "doordash",  # orders with items
        "80.00",
        "40.00",
        "1 day ago",  # stats: total spent, average, days since last order
        'style="--tag-color: #0ea5e9"',
        "VIP",
        "Prefers SMS.",
        "Not blacklisted",
        "Order <strong>A-2</strong> recorded",
        "Tag added: <strong>VIP</strong>",
        "Account linked: shopify",
    ):
        assert text in body, text
    assert 'class="definition-list"' in body


def test_the_order_figure_says_it_counts_completed_orders(client_for, support, ann):
    services.change_order_status(order=ann.orders.get(), status="refunded", actor=support)
    body = profile(client_for(support), ann).content.decode()
    assert '<div class="kpi-label">Completed orders</div><div class="kpi-value">0</div>' in body
    assert "Refunded" in body


def test_the_timeline_tells_each_kind_of_event_readably(client_for, support, ann):
    order = ann.orders.get()
    services.change_order_status(order=order, status="refunded", actor=support)
    services.change_order_address(
        order=order, address={"street": "2 Elm St", "city": "Shelbyville"}, actor=support
    )
    services.blacklist_customer(customer=ann, reason="support_abuse", note="Rude", actor=support)
    body = profile(client_for(support), ann).content.decode()
    for text in (
        "Customer created with phone",
        "Order <strong>A-1</strong> recorded: 40.00 USD",
        "Order <strong>A-1</strong> status: completed → refunded",
        "Order <strong>A-1</strong> address: 1 Main St, Springfield, 12345, US → 2 Elm St, Shelbyville",
        "Account linked: shopify (ann.shop@store.io)",
        "Reason: Support abuse · “Rude”",
    ):
        assert text in body, text


def test_the_timeline_is_newest_first(client_for, support, ann):
    services.add_note(customer=ann, body="first", actor=support)
    services.tag_customer(customer=ann, name="Later", actor=support)
    assert timeline(profile(client_for(support), ann))[:2] == [Activity.Kind.TAGGED, Activity.Kind.NOTE_ADDED]


def test_another_business_customer_is_404(client_for, other_business, make_member, ann):
    stranger = make_member(other_business, Membership.Role.OWNER)
    assert profile(client_for(stranger), ann).status_code == 404


def test_a_deleted_customer_is_404_for_support_and_restorable_for_owners(client_for, owner, support, ann):
    services.delete_customer(customer=ann, actor=owner)
    assert profile(client_for(support), ann).status_code == 404

    body = profile(client_for(owner), ann).content.decode()
    assert "Deleted on" in body
    assert f'action="/customers/{ann.pk}/restore/"' in body
    assert f"/customers/{ann.pk}/edit/" not in body


@pytest.mark.parametrize(
    "role, actions",
    [
        # Owners tag their audiences (one customer here, many by the bulk actions).
        ("owner", {"delete/", "tags/"}),
        ("support", {"edit/", "blacklist/", "notes/", "tags/"}),
        ("compliance", set()),
    ],
)
def test_each_role_sees_only_the_actions_it_may_do(client_for, make_member, business, ann, role, actions):
    body = profile(client_for(make_member(business, role)), ann).content.decode()
    every_action = {"edit/", "blacklist/", "unblacklist/", "notes/", "tags/", "delete/", "restore/"}
    assert {path for path in every_action if f"/customers/{ann.pk}/{path}" in body} == actions


# Query count and paging --------------------------------------------------------------------


def test_the_query_count_does_not_grow_with_the_history(
    client_for, support, business, ann, django_assert_num_queries
):
    small = record(
        business, "S-1", phone="+14155550199", first_name="Sam", payments=[card("S-T1", "40.00")]
    ).customer
    services.refund_payment(payment=Payment.objects.get(), amount="1.00", actor=support, source="profile")
    for n in range(ORDERS_PER_PAGE + 15):
        payments = [card(f"A-T{n}-1", "10.00", status="failed"), card(f"A-T{n}-2", "40.00")]
        if n % 3 == 0:
            payments.append(card(f"A-T{n}-3", "5.00", method="cash_on_delivery", status="pending"))
        recorded = record(
            business, f"A-{n + 10}", placed_at=timezone.now() - dt.timedelta(hours=n), payments=payments
        )
        if n % 2 == 0:
            paid = recorded.payments.get(transaction_id=f"A-T{n}-2")
            for _ in range(2):
                services.refund_payment(
                    payment=paid, amount="3.00", reason="late", actor=support, source="profile"
                )
    for n in range(3):
        services.tag_customer(customer=ann, name=f"T{n}", actor=support)
        services.add_note(customer=ann, body=f"note {n}", actor=support)
        services.blacklist_customer(customer=ann, reason="fraud", actor=support)
        services.unblacklist_customer(customer=ann, reason="other", actor=support)
    services.update_contact(customer=ann, first_name="Anne", actor=support)
    client = client_for(support)
    profile(client, small)  # the first request of a session saves it

    # session, user, membership (with the switchable businesses), permissions, then the
    # customer, dropoffs, accounts, orders, their items, timeline, tags, notes, blacklist history,
    # possible duplicates, merges that may be undone; then the panels of the other apps:
    # loyalty (business, tier configuration, tier state, lifetime value, latest points
    # entries), segments (the customer's segments), privacy (the preference record, the last
    # consent events, the access log's insert, the customer's exports and anonymization request);
    # the orders' payments, their refunds and the payment totals of every order
    with django_assert_num_queries(28):
        profile(client, small)
    with django_assert_num_queries(28):
        response = profile(client, ann)
    assert len(response.context["orders"]) == ORDERS_PER_PAGE
    assert response.context["payment_totals"]["failed"] == ORDERS_PER_PAGE + 15
    assert len(response.context["timeline"]) == TIMELINE_PER_PAGE


def test_orders_and_timeline_page_without_counting(client_for, support, business, ann):
    for n in range(ORDERS_PER_PAGE + 4):
        record(business, f"B-{n:02d}", placed_at=timezone.now() - dt.timedelta(minutes=n))
    client = client_for(support)
    with CaptureQueriesContext(connection) as queries:
        second = profile(client, ann, orders_page=2, timeline_page=2)
    assert not [query["sql"] for query in queries if "COUNT(" in query["sql"].upper()]

    orders = second.context["orders"]
    assert [order.external_id for order in orders] == ["B-20", "B-21", "B-22", "B-23", "A-1"]
    assert orders.has_previous and not orders.has_next
    # 1 created + 25 orders recorded + 25 points earned + 1 account linked + 2 tier upgrades
    # (the default thresholds), 20 per page
    assert len(second.context["timeline"]) == 20
    body = second.content.decode()
    assert "?orders_page=1&amp;timeline_page=2#orders" in body
    assert "?timeline_page=1&amp;orders_page=2#timeline" in body


# Actions ------------------------------------------------------------------------------------


def test_support_edits_contact_data_and_the_timeline_shows_old_and_new(client_for, support, ann):
    client = client_for(support)
    form = client.get(f"/customers/{ann.pk}/edit/").context["form"]
    data = {name: value if value is not None else "" for name, value in form.initial.items()}
    data.update(first_name="Anne", phone="(415) 555-0188", date_of_birth="1990-02-03")

    response = client.post(f"/customers/{ann.pk}/edit/", data, follow=True)

    ann.refresh_from_db()
    assert (ann.first_name, ann.phone, str(ann.date_of_birth)) == ("Anne", "+14155550188", "1990-02-03")
    assert "Contact data saved." in response.content.decode()
    activity = ann.activities.filter(kind=Activity.Kind.CONTACT_UPDATED).get()
    assert activity.actor == support
    assert activity.data["changes"] == {
        "first_name": ["Ann", "Anne"],
        "phone": ["+14155550101", "+14155550188"],
        "date_of_birth": [None, "1990-02-03"],
    }
    body = response.content.decode()
    assert "first name: Ann → Anne" in body
    assert "phone: +14155550101 → +14155550188" in body
    assert "date of birth: — → 1990-02-03" in body


def test_an_invalid_phone_is_a_form_error_and_changes_nothing(client_for, support, business, ann):
    record(business, "X-1", phone="+14155550199")
    client = client_for(support)
    for phone, error in (("12", "is not a valid phone number"), ("(415) 555-0199", "Another customer")):
        response = client.post(
            f"/customers/{ann.pk}/edit/", {"phone": phone, "first_name": "Zed", "status": "active"}
        )
        assert response.status_code == 200
        assert error in str(response.context["form"].errors["phone"])
        assert error in response.content.decode()
    ann.refresh_from_db()
    assert (ann.phone, ann.first_name) == ("+14155550101", "Ann")
    assert not ann.activities.filter(kind=Activity.Kind.CONTACT_UPDATED).exists()


def test_the_contact_form_has_exactly_the_contact_fields():
    assert list(ContactForm.base_fields) == services.CONTACT_FIELDS


def test_blacklist_flow_keeps_the_history(client_for, support, ann):
    client = client_for(support)
    response = client.post(
        f"/customers/{ann.pk}/blacklist/", {"reason": "fraud", "note": "Chargebacks"}, follow=True
    )
    ann.refresh_from_db()
    assert ann.is_blacklisted
    body = response.content.decode()
    assert "Ann Lee is blacklisted." in body
    assert "Reason: Fraud · “Chargebacks”" in body

    response = client.post(f"/customers/{ann.pk}/blacklist/", {"reason": "fraud"}, follow=True)
    assert "Ann Lee is already blacklisted." in response.content.decode()

    response = client.post(
        f"/customers/{ann.pk}/unblacklist/", {"reason": "other", "note": "Refunded"}, follow=True
    )
    ann.refresh_from_db()
    assert not ann.is_blacklisted
    assert "Ann Lee is removed from the blacklist." in response.content.decode()
    history = [
        (entry.action, entry.reason, entry.note, entry.actor)
        for entry in response.context["blacklist_history"]
    ]
    assert history == [
        ("unblacklisted", "other", "Refunded", support),
        ("blacklisted", "fraud", "Chargebacks", support),
    ]
    assert timeline(response)[:2] == [Activity.Kind.UNBLACKLISTED, Activity.Kind.BLACKLISTED]


def test_blacklisting_without_a_reason_changes_nothing(client_for, support, ann):
    response = client_for(support).post(f"/customers/{ann.pk}/blacklist/", {"reason": ""}, follow=True)
    assert "Reason: This field is required." in response.content.decode()
    ann.refresh_from_db()
    assert not ann.is_blacklisted and not BlacklistEntry.objects.exists()


def test_support_adds_a_note(client_for, support, ann):
    client = client_for(support)
    response = client.post(f"/customers/{ann.pk}/notes/", {"body": "  Called about a refund. "}, follow=True)
    assert ann.notes.get().body == "Called about a refund."
    assert "Called about a refund." in response.content.decode()
    assert timeline(response)[0] == Activity.Kind.NOTE_ADDED

    response = client.post(f"/customers/{ann.pk}/notes/", {"body": "   "}, follow=True)
    assert response.status_code == 200
    assert ann.notes.count() == 1
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_support_adds_and_removes_tags(client_for, support, business, ann):
    client = client_for(support)
    response = client.post(f"/customers/{ann.pk}/tags/", {"name": "  Big   spender "}, follow=True)
    tag = Tag.objects.get(business=business, name="Big spender")
    assert list(ann.tags.all()) == [tag]
    assert "Tag added: <strong>Big spender</strong>" in response.content.decode()

    response = client.post(f"/customers/{ann.pk}/tags/{tag.pk}/remove/", follow=True)
    assert not ann.tags.exists()
    assert "Tag removed: <strong>Big spender</strong>" in response.content.decode()


def test_removing_another_business_tag_is_404(client_for, support, other_business, ann):
    foreign = Tag.objects.create(business=other_business, name="Foreign")
    assert client_for(support).post(f"/customers/{ann.pk}/tags/{foreign.pk}/remove/").status_code == 404


def test_owner_deletes_and_restores(client_for, owner, ann):
    client = client_for(owner)
    response = client.post(f"/customers/{ann.pk}/delete/", follow=True)
    ann.refresh_from_db()
    assert ann.deleted_at is not None
    assert "Ann Lee was deleted." in response.content.decode()
    assert response.redirect_chain[-1][0] == f"/customers/{ann.pk}/"

    response = client.post(f"/customers/{ann.pk}/restore/", follow=True)
    ann.refresh_from_db()
    assert ann.deleted_at is None
    assert "Ann Lee was restored." in response.content.decode()
    assert timeline(response)[:2] == [Activity.Kind.RESTORED, Activity.Kind.DELETED]


def test_restoring_when_the_phone_is_taken_is_an_error_message(client_for, owner, business, ann):
    services.delete_customer(customer=ann, actor=owner)
    record(business, "N-1", phone="+14155550101")
    response = client_for(owner).post(f"/customers/{ann.pk}/restore/", follow=True)
    assert "Another customer now has the phone" in response.content.decode()
    ann.refresh_from_db()
    assert ann.deleted_at is not None


def test_actions_on_a_deleted_customer_are_404(client_for, owner, support, ann):
    services.delete_customer(customer=ann, actor=owner)
    client = client_for(support)
    assert client.post(f"/customers/{ann.pk}/notes/", {"body": "hi"}).status_code == 404
    assert client.get(f"/customers/{ann.pk}/edit/").status_code == 404
    assert not Note.objects.exists()


@pytest.mark.parametrize(
    "role, path, data",
    [
        ("compliance", "edit/", {"phone": "+14155550188", "status": "active"}),
        ("compliance", "blacklist/", {"reason": "fraud"}),
        ("owner", "blacklist/", {"reason": "fraud"}),
        ("compliance", "notes/", {"body": "hi"}),
        ("owner", "notes/", {"body": "hi"}),
        ("compliance", "tags/", {"name": "VIP"}),
        ("compliance", "delete/", {}),
        ("support", "delete/", {}),
        ("support", "restore/", {}),
    ],
)
def test_roles_without_the_permission_get_403_and_change_nothing(
    client_for, make_member, business, ann, role, path, data
):
    before = Activity.objects.count()
    user = make_member(business, role)
    response = client_for(user).post(f"/customers/{ann.pk}/{path}", data)
    assert response.status_code == 403
    assert Activity.objects.count() == before
    ann.refresh_from_db()
    assert ann.deleted_at is None and not ann.is_blacklisted and ann.phone == "+14155550101"


def test_compliance_cannot_open_the_edit_page(client_for, compliance, ann):
    assert client_for(compliance).get(f"/customers/{ann.pk}/edit/").status_code == 403


def test_actions_only_accept_post(client_for, support, ann):
    assert client_for(support).get(f"/customers/{ann.pk}/blacklist/").status_code == 405


def test_a_customer_of_another_business_cannot_be_changed(client_for, other_business, make_member, ann):
    stranger = make_member(other_business, Membership.Role.SUPPORT)
    client = client_for(stranger)
    for path, data in (
        ("edit/", {"phone": "+14155550188", "status": "active"}),
        ("blacklist/", {"reason": "fraud"}),
        ("notes/", {"body": "hi"}),
        ("tags/", {"name": "x"}),
    ):
        assert client.post(f"/customers/{ann.pk}/{path}", data).status_code == 404
    assert Customer.objects.get(pk=ann.pk).phone == "+14155550101"
    assert not ann.notes.exists() and not ann.tags.exists() and not ann.blacklist_entries.exists()
