import pytest
from django.contrib.auth.models import Group

from customers.models import Membership

Role = Membership.Role

# page -> the roles that may open it (everyone else gets 403)
PAGES = {
    "/segments/": {Role.OWNER},
    "/loyalty/": {Role.OWNER},
    "/privacy/": {Role.OWNER, Role.COMPLIANCE},
    "/customers/": {Role.OWNER, Role.SUPPORT, Role.COMPLIANCE},
    "/settings/": {Role.OWNER},
}
NAVIGATION = {
    Role.OWNER: ["Dashboard", "Customers", "Segments", "Loyalty", "Privacy", "Settings", "Admin"],
    Role.SUPPORT: ["Customers", "Admin"],
    Role.COMPLIANCE: ["Customers", "Privacy", "Admin"],
}


def test_a_migration_creates_one_group_per_role(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {role.label for role in Role}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_opens_exactly_its_pages(role, business, make_member, client_for):
    client = client_for(make_member(business, role))
    for url, allowed in PAGES.items():
        assert client.get(url).status_code == (200 if role in allowed else 403), (role, url)


@pytest.mark.parametrize("role", list(Role))
def test_navigation_shows_only_what_the_role_may_use(role, business, make_member, client_for):
    response = client_for(make_member(business, role)).get("/customers/")
    assert [item["label"] for item in response.context["nav_items"]] == NAVIGATION[role]


def test_only_owners_get_the_dashboard_others_land_on_customers(business, owner, support, client_for, client):
    assert client_for(owner).get("/").status_code == 200
    client.logout()
    response = client_for(support).get("/")
    assert response.status_code == 302 and response["Location"] == "/customers/"


def test_the_role_follows_the_business_the_user_works_in(business, other_business, owner, client_for):
    Membership.objects.create(user=owner, business=other_business, role=Role.SUPPORT)
    client = client_for(owner)
    assert client.get("/segments/").status_code == 200

    client.post("/switch-business/", {"business": other_business.pk, "next": "/segments/"})
    assert client.get("/segments/").status_code == 403
    assert client.get("/customers/").context["current_business"] == other_business


def test_switching_to_a_business_without_membership_is_404(business, other_business, owner, client_for):
    response = client_for(owner).post("/switch-business/", {"business": other_business.pk})
    assert response.status_code == 404


def test_superuser_may_work_in_any_business(business, other_business, django_user_model, client_for):
    admin = django_user_model.objects.create_superuser("root", password="pw-for-tests-1")
    client = client_for(admin)
    client.post("/switch-business/", {"business": other_business.pk})
    assert client.get("/").context["current_business"] == other_business
    assert client.get("/segments/").status_code == 200


def test_a_user_without_membership_sees_no_business_data(business, django_user_model, client_for):
    loner = django_user_model.objects.create_user("loner", password="pw-for-tests-1")
    assert client_for(loner).get("/customers/").status_code == 404


def test_every_page_needs_login_except_login_and_healthz(client, db):
    assert client.get("/").status_code == 302
    assert client.get("/customers/")["Location"].startswith("/accounts/login/")
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/healthz").status_code == 200
