import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from customers import services
from customers.models import Business, Customer, Tag

BEFORE = [("customers", "0010_order_times_in_range")]


@pytest.fixture
def ann(business):
    return services.get_or_create_customer(business=business, phone="+14155550101", first_name="Ann")[0]


@pytest.fixture
def bob(business):
    return services.get_or_create_customer(business=business, phone="+14155550102", first_name="Bob")[0]


@pytest.mark.django_db
def test_tagging_reuses_a_tag_of_the_same_name_in_any_case(business, ann, bob, support):
    vip = services.tag_customer(customer=ann, name="VIP", actor=support)
    assert services.tag_customer(customer=bob, name="vip", actor=support) == vip
    assert services.tag_customer(customer=ann, name=" Vip ", actor=support) == vip
    assert list(Tag.objects.values_list("name", flat=True)) == ["VIP"]
    assert set(vip.customers.all()) == {ann, bob}


@pytest.mark.django_db
def test_the_database_refuses_a_second_tag_differing_only_in_case(business, other_business):
    Tag.objects.create(business=business, name="VIP")
    Tag.objects.create(business=other_business, name="vip")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(business=business, name="vip")


@pytest.mark.django_db
@pytest.mark.parametrize("color", ["red", "#12345", "#1234567", "#ggggg0", "javascript:x"])
def test_a_tag_colour_is_six_hex_digits_in_the_service_the_model_and_the_database(
    business, ann, support, color
):
    with pytest.raises(ValidationError):
        services.tag_customer(customer=ann, name="Bad", color=color, actor=support)
    with pytest.raises(ValidationError):
        Tag(business=business, name="Bad", color=color).full_clean()
    # Too long for the column (PostgreSQL) or caught by the check constraint.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Tag.objects.create(business=business, name="Bad", color=color)
    assert not Tag.objects.exists()


@pytest.mark.django_db
def test_the_profile_adds_a_tag_with_its_colour_and_refuses_a_colour_that_is_none(client_for, support, ann):
    client = client_for(support)
    client.post(f"/customers/{ann.pk}/tags/", {"name": "Gold", "color": "#f59e0b"})
    refused = client.post(f"/customers/{ann.pk}/tags/", {"name": "Red", "color": "red"}, follow=True)
    assert "Colour of a new tag: A colour is # and six hexadecimal digits" in refused.content.decode()
    assert list(Tag.objects.values_list("name", "color")) == [("Gold", "#f59e0b")]


@pytest.mark.django_db
def test_the_tag_input_suggests_the_business_s_other_tags(client_for, support, business, other_business, ann):
    services.tag_customer(customer=ann, name="VIP", actor=support)
    Tag.objects.create(business=business, name="Wholesale")
    Tag.objects.create(business=other_business, name="Elsewhere")
    response = client_for(support).get(f"/customers/{ann.pk}/")
    body = response.content.decode()
    assert 'list="tag-suggestions"' in body
    assert '<datalist id="tag-suggestions"><option value="Wholesale"></option></datalist>' in body
    assert [tag.name for tag in response.context["tags"]] == ["VIP"]


@pytest.mark.django_db(transaction=True)
def test_the_migration_merges_tags_differing_in_case_and_resets_colours_that_are_not_colours():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    OldBusiness, OldTag, OldCustomer = (
        old.get_model("customers", name) for name in ("Business", "Tag", "Customer")
    )
    business = OldBusiness.objects.create(name="Old", slug="old")
    other = OldBusiness.objects.create(name="Other", slug="other")
    first = OldTag.objects.create(business=business, name="VIP", color="red")
    second = OldTag.objects.create(business=business, name="vip")
    third = OldTag.objects.create(business=business, name="Vip")
    elsewhere = OldTag.objects.create(business=other, name="vip")
    ann, bob, cy = (OldCustomer.objects.create(business=business, phone=f"+1415555010{n}") for n in range(3))
    ann.tags.set([first, second])
    bob.tags.set([second])
    cy.tags.set([third])

    executor = MigrationExecutor(connection)
    # Every app's latest, not only customers': the other apps' migrations that depend on
    # customers were unapplied with it.
    executor.migrate(executor.loader.graph.leaf_nodes())

    tags = Tag.objects.filter(business_id=business.pk)
    assert list(tags.values_list("pk", "name", "color")) == [(first.pk, "VIP", "#64748b")]
    assert set(Customer.objects.filter(tags=first.pk).values_list("pk", flat=True)) == {ann.pk, bob.pk, cy.pk}
    assert Tag.objects.filter(pk=elsewhere.pk).exists()
    assert Business.objects.count() == 2


@pytest.mark.django_db
def test_the_admin_refuses_a_tag_name_taken_in_another_case(client_for, support, business):
    Tag.objects.create(business=business, name="VIP")
    response = client_for(support).post("/admin/customers/tag/add/", {"name": "vip", "color": "#123456"})
    assert response.status_code == 200
    assert "This business has a tag of this name already (in any case)." in response.content.decode()
    assert Tag.objects.count() == 1


@pytest.mark.django_db
def test_an_import_reuses_tags_in_any_case_and_tags_each_customer_once(business, ann):
    from customers.tests.bulk.test_import import csv_bytes, run_import

    vip = services.tag_customer(customer=ann, name="VIP", actor=None)
    rows = (
        "phone,first_name,last_name,email,date_of_birth,language,tags,street,city,state,postal_code,country\n"
        "+1 415 555 0101,Ann,,,,,vip;Vip,,,,,\n"
        "+1 415 555 0102,Bob,,,,,vip;Late payer;LATE PAYER,,,,,\n"
    )
    counts, written, _ = run_import(business, csv_bytes(rows))
    assert written and (counts.created, counts.unchanged, counts.errors) == (1, 1, 0)
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Late payer", "VIP"]
    bob = Customer.objects.get(phone="+14155550102")
    assert sorted(bob.tags.values_list("name", flat=True)) == ["Late payer", "VIP"]
    assert bob.activities.filter(kind="tagged").count() == 2
    assert list(ann.tags.all()) == [vip]
