import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from customers import services as customer_services
from customers.models import Customer, Membership
from customers.tests.api.declared import assert_declared
from privacy import services
from privacy.models import AccessLog, DataExport
from privacy.queries import export_sections
from privacy.tests.conftest import EMAIL, PHONE, STREET, record
from privacy.tests.factories import grant
from segments import services as segment_services
from segments.tests.factories import static

pytestmark = pytest.mark.django_db

CONTRACT_KEYS = [
    "profile", "accounts", "addresses", "orders", "notes", "tags", "blacklist", "loyalty", "segments",
    "preferences", "consents", "timeline", "access_log",
]  # fmt: skip


def export_now(customer, actor, type="GDPR_FULL", capture=None):
    with capture(execute=True):
        export = services.request_data_export(
            customer=customer, type=type, reason="Subject's email", actor=actor
        )
    export.refresh_from_db()
    return export


def zip_of(export):
    with export.file.open("rb") as file:
        return zipfile.ZipFile(io.BytesIO(file.read()))


def data_of(export):
    return json.loads(zip_of(export).read("data.json"))


def foreign_keys_to_customer():
    return {
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models(include_auto_created=True)
        for field in model._meta.get_fields()
        if field.concrete and field.is_relation and field.related_model is Customer
        and (field.many_to_one or field.one_to_one)
    }  # fmt: skip


def test_every_foreign_key_to_customer_is_in_the_full_export():
    """A model that holds data about a customer and is not in GDPR_FULL fails here: register
    a section for it (privacy.queries.export_sections.register)."""
    missing = foreign_keys_to_customer() - export_sections.covered_foreign_keys()
    assert not missing, f"not in any export section: {sorted(missing)}"


def test_the_full_export_holds_everything_about_the_person(
    business, zeb, compliance, support, django_capture_on_commit_callbacks
):
    customer_services.add_note(customer=zeb, body="Prefers the side door", actor=support)
    customer_services.tag_customer(customer=zeb, name="VIP", actor=support)
    customer_services.blacklist_customer(customer=zeb, reason="fraud", note="Chargebacks", actor=support)
    record(business, "Z-2")
    services.record_access(business=business, actor=support, customer_ids=[zeb.pk], what="profile_viewed")
    panel = static(business, name="Tasting panel")
    segment_services.add_to_segment(
        segment=panel, customers=Customer.objects.filter(pk=zeb.pk), actor=support
    )
    grant(zeb, "sms_marketing", actor=support, evidence="Said yes at the counter")

    export = export_now(zeb, compliance, capture=django_capture_on_commit_callbacks)
    data = data_of(export)

    assert export.status == DataExport.Status.COMPLETED and export.expires_at > export.completed_at
    assert list(data)[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
    assert (data["profile"]["phone"], data["profile"]["email"]) == (PHONE, EMAIL)
    assert data["accounts"][0]["email"] == "zq-shop@store.example"
    assert data["addresses"][0]["street"] == STREET
    assert [order["external_id"] for order in data["orders"]] == ["Z-1", "Z-2"]
    assert data["orders"][0]["items"] == [
        {"sku": "P1", "name": "Pizza", "category": "food", "quantity": 2, "price": "20.00"}
    ]
    assert data["notes"][0]["body"] == "Prefers the side door"
    assert data["tags"] == ["VIP"]
    assert data["blacklist"][0]["note"] == "Chargebacks"
    assert data["loyalty"]["tier"] == zeb.tier
    assert [row["segment__name"] for row in data["segments"]["memberships"]] == ["Tasting panel"]
    assert [(row["kind"], row["cause"]) for row in data["segments"]["history"]] == [("joined", "manual")]
    assert data["preferences"]["sms_marketing"] is True
    assert [(event["channel"], event["action"]) for event in data["consents"]] == [("sms", "granted")]
    assert {entry["kind"] for entry in data["timeline"]} >= {"created", "order_recorded", "blacklisted"}
    assert data["access_log"][0]["by"] == support.username
    report = zip_of(export).read("report.html").decode()
    assert STREET in report and "Z-2" in report


def test_the_basic_export_holds_profile_and_orders_only(
    business, zeb, compliance, django_capture_on_commit_callbacks
):
    data = data_of(export_now(zeb, compliance, "GDPR_BASIC", django_capture_on_commit_callbacks))
    assert list(data) == ["profile", "orders"]


def test_the_analytics_export_holds_no_personal_data(
    business, zeb, compliance, django_capture_on_commit_callbacks
):
    export = export_now(zeb, compliance, "BUSINESS_ANALYTICS", django_capture_on_commit_callbacks)
    text = zip_of(export).read("data.json").decode()
    assert json.loads(text)["aggregates"]["orders"] == 1
    for personal in (PHONE, PHONE[2:], EMAIL, "Zebedee", "Quimby", STREET, f'"id": {zeb.pk}'):
        assert personal not in text


def test_a_due_date_follows_the_law(business, zeb, compliance, django_capture_on_commit_callbacks):
    asked = timezone.now() - timedelta(days=2)
    gdpr = services.request_data_export(
        customer=zeb, type="GDPR_FULL", reason="x", actor=compliance, subject_requested_at=asked
    )
    ccpa = services.request_data_export(
        customer=zeb,
        type="GDPR_FULL",
        reason="x",
        actor=compliance,
        regulation="CCPA",
        subject_requested_at=asked,
    )
    assert (gdpr.due_at - asked, ccpa.due_at - asked) == (timedelta(days=30), timedelta(days=45))


def test_an_owner_requests_and_a_compliance_officer_approves(
    client_for, owner, compliance, zeb, django_capture_on_commit_callbacks
):
    client_for(owner).post(
        f"/privacy/customers/{zeb.pk}/export/", {"type": "GDPR_FULL", "regulation": "GDPR", "reason": "Asked"}
    )
    export = DataExport.objects.get()
    assert export.awaits_approval and not hasattr(export, "job")

    client = client_for(compliance)
    assert f"/privacy/exports/{export.pk}/approve/" in client.get("/privacy/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/privacy/exports/{export.pk}/approve/")
    export.refresh_from_db()
    assert (export.status, export.approved_by) == (DataExport.Status.COMPLETED, compliance)


def test_an_owner_cannot_approve(client_for, owner, zeb):
    export = services.request_data_export(customer=zeb, type="GDPR_FULL", reason="x", actor=owner)
    assert client_for(owner).post(f"/privacy/exports/{export.pk}/approve/").status_code == 403
    export.refresh_from_db()
    assert export.approved_at is None


def test_a_bad_request_is_a_message_not_a_500(client_for, compliance, zeb):
    response = client_for(compliance).post(
        f"/privacy/customers/{zeb.pk}/export/", {"type": "ALL", "reason": ""}, follow=True
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not DataExport.objects.exists()


def test_compliance_downloads_over_a_short_lived_link_and_each_download_is_logged(
    client_for, compliance, zeb, django_capture_on_commit_callbacks
):
    export = export_now(zeb, compliance, capture=django_capture_on_commit_callbacks)
    client = client_for(compliance)
    link = client.get(f"/privacy/exports/{export.pk}/download/")
    assert link.status_code == 302
    response = client.get(link["Location"])
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content)[:2] == b"PK"
    entry = AccessLog.objects.get(what=AccessLog.What.DATA_EXPORT_DOWNLOADED)
    assert (entry.actor, entry.customer_id_list) == (compliance, [zeb.pk])


def test_a_link_is_only_for_its_user_and_expires(
    client_for, compliance, second_compliance, zeb, django_capture_on_commit_callbacks, monkeypatch
):
    export = export_now(zeb, compliance, capture=django_capture_on_commit_callbacks)
    link = client_for(compliance).get(f"/privacy/exports/{export.pk}/download/")["Location"]
    assert client_for(second_compliance).get(link).status_code == 404
    monkeypatch.setattr(DataExport, "LINK_SECONDS", -1)
    assert client_for(compliance).get(link).status_code == 404
    assert not AccessLog.objects.filter(what=AccessLog.What.DATA_EXPORT_DOWNLOADED).exists()


@pytest.mark.parametrize("role", [Membership.Role.OWNER, Membership.Role.SUPPORT])
def test_others_of_the_business_cannot_download(
    client_for, make_member, business, compliance, zeb, role, django_capture_on_commit_callbacks
):
    export = export_now(zeb, compliance, capture=django_capture_on_commit_callbacks)
    assert (
        client_for(make_member(business, role)).get(f"/privacy/exports/{export.pk}/download/").status_code
        == 403
    )


def test_compliance_of_another_business_gets_404(
    client_for, make_member, other_business, compliance, zeb, django_capture_on_commit_callbacks
):
    export = export_now(zeb, compliance, capture=django_capture_on_commit_callbacks)
    stranger = make_member(other_business, Membership.Role.COMPLIANCE)
    assert client_for(stranger).get(f"/privacy/exports/{export.pk}/download/").status_code == 404


def test_files_expire_after_30_days(business, zeb, compliance, django_capture_on_commit_callbacks):
    export = export_now(zeb, compliance, capture=django_capture_on_commit_callbacks)
    name = export.file.name
    assert services.expire_data_exports(at=timezone.now() + timedelta(days=29)) == 0
    assert services.expire_data_exports(at=timezone.now() + timedelta(days=30, minutes=1)) == 1
    export.refresh_from_db()
    assert (export.status, export.file.name) == (DataExport.Status.EXPIRED, "")
    assert not export.file.storage.exists(name)


# API ----------------------------------------------------------------------------------


def test_the_api_requests_follows_and_downloads_an_export(
    api, api_key, zeb, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(
            "post", f"/api/v1/customers/{zeb.pk}/export", api_key, {"type": "GDPR_FULL", "reason": "Asked"}
        )
    assert response.status_code == 202
    assert_declared(response)
    body = response.json()
    assert set(body) == {"id", "status", "due_at"}

    status = api("get", f"/api/v1/exports/{body['id']}", api_key)
    assert_declared(status)
    status = status.json()
    assert set(status) == {"id", "type", "status", "due_at", "completed_at", "expires_at"}
    assert status["status"] == "COMPLETED" and status["expires_at"]

    download = api("get", f"/api/v1/exports/{body['id']}/download", api_key)
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    assert_declared(download)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert json.loads(archive.read("data.json"))["profile"]["phone"] == PHONE
    entry = AccessLog.objects.get(what=AccessLog.What.DATA_EXPORT_DOWNLOADED)
    assert (entry.actor, entry.api_key.name) == (None, "Partner app")


def test_the_api_refuses_bad_input_and_other_businesses(api, api_key, zeb, other_business):
    bad = api("post", f"/api/v1/customers/{zeb.pk}/export", api_key, {"type": "EVERYTHING", "reason": 3})
    assert bad.status_code == 400 and "reason" in bad.json()["errors"]
    bad = api("post", f"/api/v1/customers/{zeb.pk}/export", api_key, {"type": "EVERYTHING", "reason": "x"})
    assert bad.status_code == 400 and "type" in bad.json()["errors"]
    nul = {"type": "GDPR_FULL", "reason": "a\x00b"}
    bad = api("post", f"/api/v1/customers/{zeb.pk}/export", api_key, nul)
    assert bad.status_code == 400 and "reason" in bad.json()["errors"]
    _, other_key = customer_services.create_api_key(business=other_business, name="Other", actor=None)
    assert (
        api(
            "post", f"/api/v1/customers/{zeb.pk}/export", other_key, {"type": "GDPR_FULL", "reason": "x"}
        ).status_code
        == 404
    )
    export = services.request_data_export(customer=zeb, type="GDPR_FULL", reason="x", actor=None)
    assert api("get", f"/api/v1/exports/{export.pk}", other_key).status_code == 404
    assert api("get", f"/api/v1/exports/{export.pk}/download", other_key).status_code == 404
    not_yet = api("get", f"/api/v1/exports/{export.pk}/download", api_key)
    assert not_yet.status_code == 409
    assert_declared(not_yet)
