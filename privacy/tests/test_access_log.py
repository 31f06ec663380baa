import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from conftest import requires_postgres
from customers.models import ExportJob, Membership
from privacy.models import AccessLog
from privacy.services import record_access
from privacy.tests.conftest import record

pytestmark = pytest.mark.django_db


def test_a_profile_view_is_logged_once_with_who_and_from_where(client_for, support, zeb):
    client_for(support).get(f"/customers/{zeb.pk}/", REMOTE_ADDR="10.1.2.3")

    entry = AccessLog.objects.get()
    assert (entry.actor, entry.what, entry.customer_id_list, entry.remote_addr) == (
        support,
        AccessLog.What.PROFILE_VIEWED,
        [zeb.pk],
        "10.1.2.3",
    )
    assert entry.business_id == zeb.business_id


def test_a_list_page_is_one_entry_naming_its_customers_and_the_query(client_for, support, business, zeb):
    other = record(business, "O-1", phone="+14155550188", first_name="Olga").customer
    client_for(support).get("/customers/?q=quimby")
    client_for(support).get("/customers/")

    searched, listed = AccessLog.objects.order_by("pk")
    assert (searched.what, searched.query, searched.customer_id_list) == ("list_viewed", "q=quimby", [zeb.pk])
    assert sorted(listed.customer_id_list) == sorted([zeb.pk, other.pk])
    assert listed.customer_count == 2


def test_list_exports_and_an_admin_view_are_logged(
    client_for, owner, zeb, settings, django_capture_on_commit_callbacks
):
    client = client_for(owner)
    assert client.post("/customers/export/?q=zeb", {"kind": "customers", "format": "csv"}).status_code == 200
    settings.EXPORT_SYNC_MAX_ROWS = 0
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/customers/export/?q=quimby", {"kind": "customers", "format": "csv"})
    job = ExportJob.objects.get()
    response = client.get(f"/customers/export/{job.pk}/download/")
    assert response.status_code == 200
    owner.is_superuser = True
    owner.save()
    assert client.get(f"/admin/customers/customer/{zeb.pk}/change/").status_code == 200

    at_once, exported, admin_view = AccessLog.objects.order_by("pk")
    assert (at_once.what, at_once.query) == ("list_exported", "q=zeb")
    assert (exported.what, exported.query) == ("list_exported", "q=quimby")
    assert (admin_view.what, admin_view.customer_id_list) == ("admin_viewed", [zeb.pk])


def test_the_log_refuses_updates(business, zeb, support):
    entry = services_record(business, support, zeb)
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.filter(pk=entry.pk).update(what="list_viewed")
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.filter(pk=entry.pk).update(query="[anonymized]", customer_ids=",999999,")
    # The one change anonymization makes: a search that named the person.
    AccessLog.objects.filter(pk=entry.pk).update(query="[anonymized]")
    assert AccessLog.objects.get(pk=entry.pk).query == "[anonymized]"


@requires_postgres
def test_on_postgresql_the_log_refuses_deletes(business, zeb, support):
    entry = services_record(business, support, zeb)
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.filter(pk=entry.pk).delete()
    assert AccessLog.objects.filter(pk=entry.pk).exists()
    assert connection.vendor == "postgresql"


def services_record(business, actor, customer):
    return record_access(
        business=business, actor=actor, customer_ids=[customer.pk], what="list_viewed", query="q=zebedee"
    )


def test_compliance_reads_the_log_filtered_by_customer_user_and_date(
    client_for, compliance, support, owner, business, zeb
):
    other = record(business, "O-1", phone="+14155550188").customer
    client_for(support).get(f"/customers/{zeb.pk}/")
    client_for(owner).get(f"/customers/{other.pk}/")
    services_record(business, owner, zeb)
    client = client_for(compliance)

    by_customer = client.get(f"/privacy/access-log/?customer={zeb.pk}").context["page_obj"]
    assert {entry.actor for entry in by_customer} == {support, owner}
    by_user = client.get(f"/privacy/access-log/?user={support.username}").context["page_obj"]
    assert [entry.actor for entry in by_user] == [support]
    today = timezone.localdate()
    assert len(client.get(f"/privacy/access-log/?since={today}").context["page_obj"]) == 3
    tomorrow = today + dt.timedelta(days=1)
    assert len(client.get(f"/privacy/access-log/?since={tomorrow}").context["page_obj"]) == 0
    assert client.get("/privacy/access-log/?customer=abc").status_code == 200


@pytest.mark.parametrize("role", [Membership.Role.OWNER, Membership.Role.SUPPORT])
def test_only_compliance_reads_the_log(client_for, make_member, business, role):
    assert client_for(make_member(business, role)).get("/privacy/access-log/").status_code == 403
