import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from customers import services as customer_services
from customers.models import Activity, Customer, Dropoff, ExportJob, ImportJob, Order
from customers.signals import customer_anonymized
from privacy import services
from privacy.models import AccessLog, AnonymizationRequest, DataExport
from privacy.tests.conftest import ACCOUNT_EMAIL, EMAIL, PHONE, record
from privacy.tests.factories import grant

pytestmark = pytest.mark.django_db

TWIN_PHONE = "+14155550124"
TWIN_EMAIL = "zq.twin@example.com"
NEW_EMAIL = "zeb.new@example.com"
# Every way their phones, emails, names and street may be written.
PERSONAL = [
    PHONE, "14155550123", "4155550123", "(415) 555-0123", "415-555-0123", "415 555 0123",
    TWIN_PHONE, "4155550124", "(415) 555-0124",
    EMAIL, TWIN_EMAIL, NEW_EMAIL, ACCOUNT_EMAIL, "SHOP-ZQ-77",
    "zebedee", "quimby", "742 evergreen",
]  # fmt: skip


def approve_and_run(request, approver, capture):
    with capture(execute=True):
        services.approve_anonymization(request=request, actor=approver)
    request.refresh_from_db()
    return request


@pytest.fixture
def everywhere(business, zeb, support, owner, compliance, django_capture_on_commit_callbacks, settings):
    """Zebedee's data in every corner of the product."""
    record(business, "Z-2")
    customer_services.add_note(customer=zeb, body="Zebedee called about 742 Evergreen Terrace", actor=support)
    customer_services.update_contact(customer=zeb, email=NEW_EMAIL, actor=support)
    customer_services.blacklist_customer(
        customer=zeb, reason="fraud", note="Quimby threatened the driver", actor=support
    )
    twin = record(business, "T-1", phone=TWIN_PHONE, first_name="Zebedee", email=TWIN_EMAIL).customer
    customer_services.merge_customers(survivor=zeb, merged=[twin], reason="Zebedee twice", actor=support)
    csv_row = "phone,first_name,email\n(415) 555-0123,Zebedee,x@y.z\n+14155550199,Olga,olga@example.com\n"
    ImportJob.objects.create(
        business=business, actor=owner, kind="customers", original_name="people.csv", status="done",
        file=ContentFile(csv_row.encode(), name="people.csv"),
        error_report=ContentFile(b"row,phone,message\n2,415-555-0123,bad email\n", name="rejected.csv"),
        preview=[{"row": 2, "status": "error", "key": "(415) 555-0123", "message": "Zebedee: bad email"}],
    )  # fmt: skip
    ExportJob.objects.create(
        business=business, actor=owner, kind="customers", format="csv", status="done",
        file=ContentFile(f"phone,first_name\n{PHONE},Zebedee\n".encode(), name="list.csv"),
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        services.request_data_export(customer=zeb, type="GDPR_FULL", reason="Asked", actor=compliance)
    Path(settings.MEDIA_ROOT, "admin-imports").mkdir(exist_ok=True)
    Path(settings.MEDIA_ROOT, "admin-imports", "0" * 32).write_text(f"phone\n{PHONE}\n")
    services.record_access(
        business=business, actor=support, customer_ids=[zeb.pk], what="list_viewed", query="q=Zebedee+Quimby"
    )
    LogEntry.objects.log_actions(
        user_id=owner.pk, queryset=[zeb], action_flag=CHANGE, change_message="Changed email."
    )
    LogEntry.objects.filter(object_id=str(zeb.pk)).update(object_repr="Zebedee Quimby")
    grant(zeb, "sms_marketing", "email_marketing", actor=support, evidence="Zebedee Quimby said yes")
    olga = record(business, "O-1", phone="+14155550199", first_name="Olga", email="olga@example.com").customer
    return {"zeb": zeb, "twin": twin, "olga": olga}


def text_columns():
    for model in apps.get_models(include_auto_created=True):
        fields = [
            field.column
            for field in model._meta.local_concrete_fields
            if isinstance(field, models.CharField | models.TextField | models.JSONField)
        ]
        if fields:
            yield model, fields


def dump(settings):
    """Every text and JSON value of every table, and the text of every media file, lower-case."""
    values = []
    for model, columns in text_columns():
        table = model._meta.db_table
        with connection.cursor() as cursor:
            quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                values.extend(f"{table}: {value}".lower() for value in row if value)
    for path in Path(settings.MEDIA_ROOT).rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            if content[:2] == b"PK":
                with zipfile.ZipFile(io.BytesIO(content)) as archive:
                    content = b"".join(archive.read(name) for name in archive.namelist())
            values.append(f"{path.name}: {content.decode('utf-8', 'replace')}".lower())
    return values


def found(values, texts=PERSONAL):
    return sorted({(text, value[:120]) for value in values for text in texts if text.lower() in value})


def test_nothing_of_the_person_is_left_anywhere(
    everywhere, business, support, compliance, settings, django_capture_on_commit_callbacks
):
    zeb = everywhere["zeb"]
    where = {value.split(":")[0] for _, value in found(dump(settings))}
    assert where >= {
        "customers_customer", "customers_customeraccount", "customers_dropoff", "customers_note",
        "customers_activity", "customers_blacklistentry", "customers_mergerecord", "customers_importjob",
        "django_admin_log", "privacy_accesslog", "privacy_consentevent",
        "people.csv", "rejected.csv", "list.csv", "0" * 32,
    }, "the fixture puts their data everywhere"  # fmt: skip
    request = services.request_anonymization(customer=zeb, reason="Right to erasure", actor=support)

    request = approve_and_run(request, compliance, django_capture_on_commit_callbacks)

    assert request.status == AnonymizationRequest.Status.DONE
    assert found(dump(settings)) == []
    # Orders, amounts, statuses, tier and stats stay with the anonymized record.
    zeb.refresh_from_db()
    assert zeb.anonymized_at and zeb.phone.startswith("anon-") and zeb.first_name == ""
    assert sorted(Order.objects.filter(customer=zeb).values_list("external_id", flat=True)) == [
        "T-1",
        "Z-1",
        "Z-2",
    ]
    assert (zeb.order_count, str(zeb.total_spent)) == (3, "120.00")
    assert set(Dropoff.objects.filter(customer=zeb).values_list("country", "street", "postal_code")) == {
        ("US", "", "")
    }
    assert DataExport.objects.get(customer=zeb).status == DataExport.Status.EXPIRED
    assert Activity.objects.filter(customer=zeb, kind=Activity.Kind.ANONYMIZED).count() == 1
    # Someone else's data is untouched.
    assert found(dump(settings), ["olga@example.com", "+14155550199"])


def test_every_consent_is_withdrawn_by_a_last_event_and_the_history_stays_without_its_words(
    everywhere, business, support, compliance, django_capture_on_commit_callbacks
):
    from privacy.models import CommunicationPreference, ConsentEvent

    zeb = everywhere["zeb"]
    granted = ConsentEvent.objects.filter(customer=zeb).count()
    request = services.request_anonymization(customer=zeb, reason="Right to erasure", actor=support)

    approve_and_run(request, compliance, django_capture_on_commit_callbacks)

    from privacy.models import CONSENT_FIELDS

    record = CommunicationPreference.objects.get(customer=zeb)
    assert not any(getattr(record, name) for name in CONSENT_FIELDS)
    events = ConsentEvent.objects.filter(customer=zeb)
    last = events.filter(source=ConsentEvent.Source.ANONYMIZATION)
    assert {("email", "withdrawn"), ("sms", "withdrawn")} <= set(last.values_list("channel", "action"))
    assert set(last.values_list("action", flat=True)) == {"withdrawn"}
    assert events.count() == granted + last.count()
    assert set(events.exclude(source="anonymization").values_list("evidence", flat=True)) == {"[anonymized]"}


def test_running_it_twice_changes_nothing_more(everywhere, business, support, settings):
    zeb = everywhere["zeb"]
    assert services.anonymize_customers(business=business, customer_ids=[zeb.pk], actor=support)
    before = dump(settings)
    assert services.anonymize_customers(business=business, customer_ids=[zeb.pk], actor=support) == []
    assert dump(settings) == before


def test_a_new_order_with_the_old_phone_is_a_new_customer(business, zeb, support):
    services.anonymize_customers(business=business, customer_ids=[zeb.pk], actor=support)
    order = record(business, "Z-9")
    assert order.customer_id != zeb.pk and order.customer.phone == PHONE


def test_the_phone_becomes_a_random_token_not_a_hash(business, zeb, make_member):
    other = record(business, "Y-1", phone="+14155550777").customer
    services.anonymize_customers(business=business, customer_ids=[zeb.pk, other.pk], actor=None)
    tokens = set(Customer.objects.filter(pk__in=[zeb.pk, other.pk]).values_list("phone", flat=True))
    assert len(tokens) == 2 and all(token.startswith("anon-") for token in tokens)


# Four eyes ------------------------------------------------------------------------------


def test_the_requester_cannot_approve_their_own_request(business, zeb, compliance):
    request = services.request_anonymization(customer=zeb, reason="Asked", actor=compliance)
    with pytest.raises(ValidationError, match="Another compliance officer"):
        services.approve_anonymization(request=request, actor=compliance)
    request.refresh_from_db()
    assert request.status == AnonymizationRequest.Status.REQUESTED


def test_the_database_refuses_a_self_approval(business, zeb, compliance):
    request = services.request_anonymization(customer=zeb, reason="Asked", actor=compliance)
    with pytest.raises(IntegrityError), transaction.atomic():
        AnonymizationRequest.objects.filter(pk=request.pk).update(decided_by=compliance)


def test_support_requests_but_cannot_approve(client_for, support, zeb):
    client = client_for(support)
    client.post(f"/privacy/customers/{zeb.pk}/anonymize/", {"regulation": "GDPR", "reason": "Asked by phone"})
    request = AnonymizationRequest.objects.get()
    assert request.requested_by == support
    assert client.post(f"/privacy/anonymizations/{request.pk}/approve/").status_code == 403
    with pytest.raises(PermissionDenied):
        services.approve_anonymization(request=request, actor=support)


def test_a_compliance_officer_rejects_with_a_reason(client_for, support, compliance, zeb):
    request = services.request_anonymization(customer=zeb, reason="Asked", actor=support)
    client = client_for(compliance)
    client.post(f"/privacy/anonymizations/{request.pk}/reject/", {"reason": ""})
    request.refresh_from_db()
    assert request.status == AnonymizationRequest.Status.REQUESTED
    client.post(f"/privacy/anonymizations/{request.pk}/reject/", {"reason": "Open fraud case"})
    request.refresh_from_db()
    assert (request.status, request.rejection_reason, request.decided_by) == (
        "rejected",
        "Open fraud case",
        compliance,
    )
    zeb.refresh_from_db()
    assert zeb.anonymized_at is None


def test_the_queue_shows_overdue_requests_first(client_for, support, compliance, business, zeb):
    other = record(business, "O-1", phone="+14155550199").customer
    late = services.request_anonymization(
        customer=other, reason="Old", actor=support, subject_requested_at=timezone.now() - timedelta(days=40)
    )
    fresh = services.request_anonymization(customer=zeb, reason="New", actor=support)
    page = client_for(compliance).get("/privacy/")
    assert [item.pk for _, item in page.context["queue"]] == [late.pk, fresh.pk]
    assert "Overdue" in page.content.decode()


# API ------------------------------------------------------------------------------------


def test_delete_through_the_api_creates_a_request_that_a_person_approves(
    api, api_key, zeb, compliance, django_capture_on_commit_callbacks
):
    response = api("delete", f"/api/v1/customers/{zeb.pk}", api_key, {"reason": "Customer asked by email"})
    assert response.status_code == 202
    body = response.json()
    assert body == {"request_id": body["request_id"], "status": "requested"}
    again = api("delete", f"/api/v1/customers/{zeb.pk}", api_key, {"reason": "Again"})
    assert again.json()["request_id"] == body["request_id"]
    zeb.refresh_from_db()
    assert zeb.anonymized_at is None

    approve_and_run(AnonymizationRequest.objects.get(), compliance, django_capture_on_commit_callbacks)
    assert api("delete", f"/api/v1/customers/{zeb.pk}", api_key, {"reason": "x"}).status_code == 409


def test_the_api_refuses_bad_input_and_other_businesses(api, api_key, zeb, other_business):
    assert api("delete", f"/api/v1/customers/{zeb.pk}", api_key, {}).status_code == 400
    assert api("delete", f"/api/v1/customers/{zeb.pk}", api_key).status_code == 400
    _, other_key = customer_services.create_api_key(business=other_business, name="Other", actor=None)
    assert api("delete", f"/api/v1/customers/{zeb.pk}", other_key, {"reason": "x"}).status_code == 404
    assert api("patch", f"/api/v1/customers/{zeb.pk}", api_key, {"reason": "x"}).status_code == 405
    assert not AnonymizationRequest.objects.exists()


def test_the_profile_shows_the_anonymized_record_with_its_orders(client_for, support, business, zeb):
    services.anonymize_customers(business=business, customer_ids=[zeb.pk], actor=None)
    body = client_for(support).get(f"/customers/{zeb.pk}/").content.decode()
    assert "Anonymized" in body and "Z-1" in body and "Zebedee" not in body
    assert AccessLog.objects.filter(what="profile_viewed").count() == 1
    assert json.dumps(Activity.objects.get(customer=zeb, kind="created").data) == '{"phone": "[anonymized]"}'


def test_other_apps_hear_of_the_anonymization_in_its_transaction(business, zeb, support):
    heard = []

    def receiver(sender, business, customer_ids, actor, **kwargs):
        heard.append((business, customer_ids, actor, Customer.objects.get(pk=zeb.pk).first_name))

    customer_anonymized.connect(receiver)
    try:
        services.anonymize_customers(business=business, customer_ids=[zeb.pk], actor=support)
    finally:
        customer_anonymized.disconnect(receiver)
    assert heard == [(business, [zeb.pk], support, "")]


@pytest.mark.parametrize(
    "role, export, anonymize", [("support", False, True), ("compliance", True, True), ("owner", True, False)]
)
def test_the_profile_panel_offers_what_the_role_may_do(
    client_for, make_member, business, zeb, role, export, anonymize
):
    body = client_for(make_member(business, role)).get(f"/customers/{zeb.pk}/").content.decode()
    assert (
        f"/privacy/customers/{zeb.pk}/export/" in body,
        f"/privacy/customers/{zeb.pk}/anonymize/" in body,
    ) == (
        export,
        anonymize,
    )
