"""Bulk actions from the customer list (picked rows, the whole filter) and from a segment's
members: tags, static segments, the tier override page, and the job over the sync limit."""

import pytest

from customers.models import Activity, BulkActionJob, Customer, Job, Tag
from segments.tests.factories import dynamic, member_ids, order, static


@pytest.fixture
def owner_client(client_for, owner):
    return client_for(owner)


def test_tagging_the_picked_rows_tags_them_with_a_timeline_entry_each(owner_client, business, owner):
    ann, bob, carl = order(business), order(business), order(business)
    Tag.objects.create(business=business, name="VIP")
    ann.tags.add(Tag.objects.get(name="VIP"))

    response = owner_client.post(
        f"/customers/bulk/?action=add_tag&ids={ann.pk}&ids={bob.pk}", {"name": "vip"}
    )

    body = response.content.decode()
    assert "1</strong> changed" in body and "1 already tagged" in body
    assert set(Customer.objects.filter(tags__name="VIP").values_list("pk", flat=True)) == {ann.pk, bob.pk}
    assert Activity.objects.filter(kind="tagged", customer=bob, actor=owner).count() == 1
    assert not carl.tags.exists()


def test_removing_a_tag_from_the_whole_filter(owner_client, business):
    vip = Tag.objects.create(business=business, name="VIP")
    customers = [order(business) for _ in range(3)]
    for customer in customers[:2]:
        customer.tags.add(vip)

    owner_client.post(f"/customers/bulk/?action=remove_tag&tag={vip.pk}", {"tag_id": vip.pk})

    assert not Customer.objects.filter(tags=vip).exists()
    assert Activity.objects.filter(kind="untagged").count() == 2


def test_a_segments_members_go_into_a_static_segment(owner_client, business):
    rich, poor = order(business, amount="150.00", days_ago=1), order(business)
    spenders = dynamic(business)
    panel = static(business)

    owner_client.post(
        f"/customers/bulk/?action=add_to_segment&segment={spenders.pk}", {"segment_id": panel.pk}
    )
    assert member_ids(panel) == {rich.pk}

    owner_client.post(
        f"/customers/bulk/?action=remove_from_segment&ids={rich.pk},{poor.pk}", {"segment_id": panel.pk}
    )
    assert member_ids(panel) == set()


def test_a_dynamic_segment_is_no_choice_for_the_static_actions(owner_client, business):
    spenders = dynamic(business)
    response = owner_client.post("/customers/bulk/?action=add_to_segment&ids=1", {"segment_id": spenders.pk})
    assert "Select a valid choice" in response.content.decode()


def test_the_tier_override_action_opens_the_loyalty_page_with_the_selection(owner_client, business):
    ann = order(business)
    response = owner_client.get(f"/customers/bulk/?action=override_tier&ids={ann.pk}")
    assert response.status_code == 302 and response["Location"] == f"/loyalty/overrides/?ids={ann.pk}"


def test_over_the_sync_limit_an_action_runs_as_a_job_with_its_result(
    owner_client, business, settings, django_capture_on_commit_callbacks
):
    settings.BULK_ACTION_SYNC_MAX = 2
    customers = [order(business) for _ in range(3)]

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post("/customers/bulk/?action=add_tag", {"name": "Spring"})

    job = BulkActionJob.objects.get()
    assert response["Location"] == f"/customers/bulk/jobs/{job.pk}/"
    assert (job.status, job.total_rows, job.rows_done) == (Job.Status.DONE, 3, 3)
    assert job.result == {"changed": 3, "skipped": {}}
    assert Customer.objects.filter(tags__name="Spring").count() == len(customers)
    page = owner_client.get(f"/customers/bulk/jobs/{job.pk}/").content.decode()
    assert "3 customers changed" in page


def test_the_list_offers_the_actions_with_its_filter(owner_client, business):
    order(business)
    body = owner_client.get("/customers/", {"tier": "BRONZE"}).content.decode()
    assert 'href="/customers/bulk/?tier=BRONZE"' in body
    assert 'name="ids"' in body


def test_a_selection_of_nobody_is_a_result_not_an_error(owner_client, business):
    response = owner_client.post("/customers/bulk/?action=add_tag&ids=", {"name": "vip"})
    assert response.status_code == 200 and "0</strong> changed" in response.content.decode()
