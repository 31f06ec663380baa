from io import StringIO

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.core.management import call_command

from customers import services
from customers.models import ApiKey, AuditEntry


def audit(business):
    return list(
        AuditEntry.objects.filter(business=business)
        .order_by("pk")
        .values_list("action", "actor__username", "data")
    )


def test_creating_renaming_and_revoking_a_key_each_write_an_audit_entry_with_the_actor(business, owner):
    api_key, _ = services.create_api_key(business=business, name="POS", actor=owner)
    services.rename_api_key(api_key=api_key, name="  Shop   POS ", actor=owner)
    services.revoke_api_key(api_key=api_key, actor=owner)

    api_key.refresh_from_db()
    assert api_key.name == "Shop POS" and api_key.revoked_at is not None
    assert audit(business) == [
        ("api_key.created", owner.username, {"api_key_id": api_key.pk, "scopes": ["admin"]}),
        ("api_key.renamed", owner.username, {"api_key_id": api_key.pk, "old": "POS", "new": "Shop POS"}),
        ("api_key.revoked", owner.username, {"api_key_id": api_key.pk}),
    ]
    assert AuditEntry.objects.get(action="api_key.revoked").target == f"Shop POS ({api_key.prefix}…)"


def test_a_rename_to_the_same_name_or_a_second_revocation_changes_nothing_and_audits_nothing(business, owner):
    api_key, _ = services.create_api_key(business=business, name="POS", actor=owner)
    services.revoke_api_key(api_key=api_key, actor=owner)

    services.rename_api_key(api_key=api_key, name="POS", actor=owner)
    services.revoke_api_key(api_key=api_key, actor=owner)

    assert [action for action, _, _ in audit(business)] == ["api_key.created", "api_key.revoked"]


def test_a_key_cannot_be_renamed_to_nothing(business, owner):
    api_key, _ = services.create_api_key(business=business, name="POS", actor=owner)

    with pytest.raises(ValidationError, match="needs a name"):
        services.rename_api_key(api_key=api_key, name="   ", actor=owner)
    assert ApiKey.objects.get().name == "POS"


def test_the_command_creates_its_key_as_the_system(business):
    call_command("create_api_key", business.slug, "--name", "Storefront", stdout=StringIO())

    entry = AuditEntry.objects.get(business=business)
    assert (entry.action, entry.actor) == ("api_key.created", None)


def test_the_admin_renames_and_revokes_keys_through_the_services(business, owner, client_for):
    api_key, _ = services.create_api_key(business=business, name="POS", actor=None)
    client = client_for(owner)

    response = client.post(
        f"/admin/customers/apikey/{api_key.pk}/change/", {"name": "Till", "scopes": ["admin"]}
    )
    assert response.status_code == 302
    client.post("/admin/customers/apikey/", {"action": "revoke_selected", ACTION_CHECKBOX_NAME: [api_key.pk]})

    assert audit(business) == [
        ("api_key.created", None, {"api_key_id": api_key.pk, "scopes": ["admin"]}),
        ("api_key.renamed", owner.username, {"api_key_id": api_key.pk, "old": "POS", "new": "Till"}),
        ("api_key.revoked", owner.username, {"api_key_id": api_key.pk}),
    ]


def test_owners_read_their_business_audit_in_the_admin_and_cannot_change_it(
    business, other_business, owner, client_for
):
    services.create_api_key(business=business, name="POS", actor=None)
    services.create_api_key(business=other_business, name="Elsewhere", actor=None)
    client = client_for(owner)

    page = client.get("/admin/customers/auditentry/").content.decode()

    assert "api_key.created" in page and "POS" in page and "system" in page
    assert "Elsewhere" not in page
    entry = AuditEntry.objects.get(business=business)
    assert client.get("/admin/customers/auditentry/add/").status_code == 403
    assert client.post(f"/admin/customers/auditentry/{entry.pk}/change/", {"action": "x"}).status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).action == "api_key.created"
