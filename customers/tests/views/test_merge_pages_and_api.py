import datetime as dt
import json
import random

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import requires_postgres
from customers import demo, services
from customers.models import Customer, DuplicateCandidate, DuplicateDismissal, DuplicateScan, MergeRecord


@pytest.fixture
def twins(business):
    ann, _ = services.get_or_create_customer(
        business=business, phone="+14155550101", first_name="Ann", last_name="Lee", email="ann@example.com"
    )
    anne, _ = services.get_or_create_customer(
        business=business, phone="+14155550202", first_name="Anne", last_name="Lee", email="ANN@example.com"
    )
    services.record_order(business=business, external_id="B-1", phone=anne.phone, amount="9.00")
    return ann, anne


def post_merge(client, body, secret):
    return client.post(
        "/api/v1/customers/merge", json.dumps(body), "application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )


def test_the_scan_finds_the_same_email_and_the_page_lists_it(
    twins, support, client_for, django_capture_on_commit_callbacks
):
    ann, anne = twins
    client = client_for(support)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("customers:scan_duplicates"))
    response = client.get(reverse("customers:duplicates"))

    scan = DuplicateScan.objects.get()
    assert scan.status == "done" and scan.candidates == 1 and scan.requested_by == support
    page = response.content.decode()
    assert "Same email" in page and f"/customers/merge/?ids={ann.pk},{anne.pk}" in page
    assert "Possible duplicate of" in client.get(reverse("customers:detail", args=[ann.pk])).content.decode()


def test_after_scan_now_the_page_shows_the_scan_queued_then_running_and_refreshes_until_it_is_done(
    twins, support, client_for
):
    client = client_for(support)
    refresh = '<meta http-equiv="refresh"'

    client.post(reverse("customers:scan_duplicates"))
    queued = client.get(reverse("customers:duplicates")).content.decode()
    assert "Scan queued at" in queued and refresh in queued

    scan = DuplicateScan.objects.get()
    DuplicateScan.objects.filter(pk=scan.pk).update(started_at=timezone.now())
    running = client.get(reverse("customers:duplicates")).content.decode()
    assert "Scan running since" in running and refresh in running

    services.run_duplicate_scan(scan=scan)
    done = client.get(reverse("customers:duplicates")).content.decode()
    assert "Last scan finished" in done and "1 pair to review" in done
    assert refresh not in done


def listed_pairs(page):
    return page.count('href="/customers/merge/?ids=')


def test_the_pair_count_is_the_lists_after_a_merge_its_undo_and_a_deletion(
    twins, business, support, client_for
):
    ann, anne = twins
    bob, _ = services.get_or_create_customer(business=business, phone="+14155550303", email="bob@example.com")
    rob, _ = services.get_or_create_customer(business=business, phone="+14155550404", email="bob@example.com")
    services.run_duplicate_scan(scan=services.request_duplicate_scan(business=business, actor=support))
    client = client_for(support)
    assert "2 pairs to review" in client.get(reverse("customers:duplicates")).content.decode()

    record = services.merge_customers(survivor=ann, merged=[anne], reason="dupes", actor=support)
    page = client.get(reverse("customers:duplicates")).content.decode()
    assert listed_pairs(page) == 1 and "1 pair to review" in page

    services.undo_merge(record=record, actor=support)
    page = client.get(reverse("customers:duplicates")).content.decode()
    assert listed_pairs(page) == 1 and "1 pair to review" in page

    services.delete_customer(customer=rob, actor=support)
    page = client.get(reverse("customers:duplicates")).content.decode()
    assert listed_pairs(page) == 0 and "0 pairs to review" in page


def test_the_duplicates_page_takes_the_same_queries_however_many_pairs_it_lists(
    twins, business, support, client_for, django_assert_num_queries
):
    client = client_for(support)
    services.detect_duplicates(business=business)
    client.get(reverse("customers:duplicates"))
    with django_assert_num_queries(QUERIES_OF_THE_DUPLICATES_PAGE):
        client.get(reverse("customers:duplicates"))

    for number in range(3):
        phones = [f"+1415555{number}{twin}11" for twin in (1, 2)]
        for phone in phones:
            services.get_or_create_customer(business=business, phone=phone, email=f"twin{number}@example.com")
    services.detect_duplicates(business=business)
    with django_assert_num_queries(QUERIES_OF_THE_DUPLICATES_PAGE):
        page = client.get(reverse("customers:duplicates")).content.decode()
    assert listed_pairs(page) == 4


# Session, user, membership, permissions, the pairs with their customers, their count, the
# last scan.
QUERIES_OF_THE_DUPLICATES_PAGE = 7


def test_the_merge_page_counts_in_words_and_shows_dates_as_yyyy_mm_dd(twins, support, client_for):
    ann, anne = twins
    services.update_contact(customer=anne, date_of_birth=dt.date(1964, 12, 11), actor=support)
    client = client_for(support)

    preview = client.get(f"{reverse('customers:merge')}?ids={ann.pk},{anne.pk}&survivor={ann.pk}")
    page = preview.content.decode()
    assert "1964-12-11" in page and "Dec. 11, 1964" not in page
    assert "<li>1 order</li>" in page
    assert '<th class="not-sortable">' in page

    record = services.merge_customers(survivor=ann, merged=[anne], reason="dupes", actor=support)
    moved = client.get(reverse("customers:merge_record", args=[record.pk])).content.decode()
    assert "<li>1 order</li>" in moved and "1 orders" not in moved


def test_not_a_duplicate_dismisses_the_pair_for_good(twins, support, client_for):
    services.detect_duplicates(business=twins[0].business)
    candidate = DuplicateCandidate.objects.get()

    client_for(support).post(reverse("customers:dismiss_duplicate", args=[candidate.pk]))
    services.detect_duplicates(business=twins[0].business)

    assert not DuplicateCandidate.objects.exists()
    assert DuplicateDismissal.objects.get().actor == support


def test_the_merge_page_previews_and_merges_with_a_field_from_the_other_record(twins, support, client_for):
    ann, anne = twins
    client = client_for(support)
    url = f"{reverse('customers:merge')}?ids={ann.pk},{anne.pk}&survivor={ann.pk}"

    preview = client.get(url).content.decode()
    assert "1 order<" in preview and "1 orders" not in preview
    assert "differs" in preview and "Merge into #" in preview

    response = client.post(url, {"survivor": ann.pk, "field_first_name": anne.pk, "reason": "Same person"})

    assert response.status_code == 302 and response["Location"] == reverse("customers:detail", args=[ann.pk])
    ann.refresh_from_db()
    assert ann.first_name == "Anne" and ann.order_count == 1
    profile = client.get(response["Location"]).content.decode()
    assert "View or undo the merge" in profile


def test_the_merge_record_page_undoes_the_merge(twins, support, client_for):
    ann, anne = twins
    record = services.merge_customers(survivor=ann, merged=[anne], reason="dupes", actor=support)
    client = client_for(support)

    assert "Undo merge" in client.get(reverse("customers:merge_record", args=[record.pk])).content.decode()
    client.post(reverse("customers:undo_merge", args=[record.pk]))

    anne.refresh_from_db()
    assert anne.deleted_at is None and anne.order_count == 1


def test_compliance_may_not_merge(twins, compliance, client_for):
    ann, anne = twins
    client = client_for(compliance)
    assert client.get(reverse("customers:duplicates")).status_code == 403
    assert client.get(f"{reverse('customers:merge')}?ids={ann.pk},{anne.pk}").status_code == 403


def test_the_admin_action_opens_the_merge_page(twins, support, client_for):
    ann, anne = twins
    response = client_for(support).post(
        "/admin/customers/customer/", {"action": "merge_selected", "_selected_action": [ann.pk, anne.pk]}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('customers:merge')}?ids={ann.pk},{anne.pk}"


def test_the_api_merges_with_default_field_choices(twins, business, client):
    ann, anne = twins
    _, secret = services.create_api_key(business=business, name="dedupe", actor=None)

    response = post_merge(
        client,
        {"survivor_id": ann.pk, "merged_ids": [anne.pk], "reason": "bulk dedupe"},
        secret,
    )

    assert response.status_code == 200, response.content
    record = MergeRecord.objects.get()
    assert response.json() == {"merge_id": record.pk, "survivor_id": ann.pk, "merged_ids": [anne.pk]}
    assert record.actor is None and record.field_choices["first_name"] == ann.pk


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({"survivor_id": "x", "merged_ids": [2], "reason": "r"}, 400, "Enter a whole number."),
        ({"survivor_id": 1, "merged_ids": "2", "reason": "r"}, 400, "Enter a list of customer ids."),
        ({"survivor_id": 1, "merged_ids": [2]}, 400, "This field is required."),
        ({"survivor_id": 1, "merged_ids": [999], "reason": "r"}, 404, "No customer 999 in this business."),
        ({"survivor_id": 1, "merged_ids": [1], "reason": "r"}, 400, "cannot be merged with itself"),
    ],
)
def test_the_api_refuses_bad_requests_clearly(twins, business, client, body, status, message):
    ann, anne = twins
    body = {
        key: {1: ann.pk, 2: anne.pk}.get(value, value) if key == "survivor_id" else value
        for key, value in body.items()
    }
    if isinstance(body.get("merged_ids"), list):
        body["merged_ids"] = [{1: ann.pk, 2: anne.pk}.get(pk, pk) for pk in body["merged_ids"]]
    _, secret = services.create_api_key(business=business, name="dedupe", actor=None)

    response = post_merge(client, body, secret)

    assert response.status_code == status
    assert message in json.dumps(response.json())


def test_the_page_the_admin_action_and_the_api_all_merge_at_most_ten_customers(
    business, support, client_for, client
):
    people = [
        services.get_or_create_customer(business=business, phone=f"+1415555{number:04d}")[0]
        for number in range(11)
    ]
    ids = [person.pk for person in people]
    page = client_for(support)
    _, secret = services.create_api_key(business=business, name="dedupe", actor=None)

    assert page.get(f"{reverse('customers:merge')}?ids={','.join(map(str, ids[:10]))}").status_code == 200
    assert page.get(f"{reverse('customers:merge')}?ids={','.join(map(str, ids))}").status_code == 404
    action = page.post(
        "/admin/customers/customer/", {"action": "merge_selected", "_selected_action": ids}, follow=True
    )
    assert "Select 2 to 10 customers to merge." in action.content.decode()
    too_many = post_merge(client, {"survivor_id": ids[0], "merged_ids": ids[1:], "reason": "r"}, secret)
    assert too_many.status_code == 400
    assert too_many.json()["errors"]["merged_ids"] == ["Merge at most 9 customers into the survivor at once."]
    assert not MergeRecord.objects.exists()
    ten = post_merge(client, {"survivor_id": ids[0], "merged_ids": ids[1:10], "reason": "r"}, secret)
    assert ten.status_code == 200
    assert MergeRecord.objects.get().merged_ids == ids[1:10]


def test_the_api_answers_409_for_a_customer_already_merged(twins, business, client):
    ann, anne = twins
    third, _ = services.get_or_create_customer(business=business, phone="+14155550303")
    services.merge_customers(survivor=third, merged=[anne], reason="first", actor=None)
    _, secret = services.create_api_key(business=business, name="dedupe", actor=None)

    response = post_merge(client, {"survivor_id": ann.pk, "merged_ids": [anne.pk], "reason": "again"}, secret)

    assert response.status_code == 409
    assert f"was already merged into #{third.pk}" in response.json()["errors"]["__all__"][0]


def test_an_api_key_of_another_business_gets_404(twins, other_business, client):
    ann, anne = twins
    _, secret = services.create_api_key(business=other_business, name="other", actor=None)

    response = post_merge(client, {"survivor_id": ann.pk, "merged_ids": [anne.pk], "reason": "x"}, secret)

    assert response.status_code == 404
    assert Customer.objects.live().count() == 2


def test_another_business_gets_404_for_every_merge_url(
    twins, support, other_business, make_member, client_for
):
    ann, anne = twins
    record = services.merge_customers(survivor=ann, merged=[anne], reason="dupes", actor=support)
    candidate = DuplicateCandidate.objects.create(
        business=ann.business, customer_a=ann, customer_b=anne, reasons=["same_email"], score=90
    )
    client = client_for(make_member(other_business, "support"))
    for method, url in [
        ("get", f"{reverse('customers:merge')}?ids={ann.pk},{anne.pk}"),
        ("post", f"{reverse('customers:merge')}?ids={ann.pk},{anne.pk}"),
        ("get", reverse("customers:merge_record", args=[record.pk])),
        ("post", reverse("customers:undo_merge", args=[record.pk])),
        ("post", reverse("customers:dismiss_duplicate", args=[candidate.pk])),
    ]:
        assert getattr(client, method)(url).status_code == 404, url
    assert "Lee" not in client.get(reverse("customers:duplicates")).content.decode()


def seeded_duplicates(business, monkeypatch, customers):
    """Seed like seed_demo and return the (original, duplicate) phone pairs it made."""
    made = []
    original_duplicate_of = demo.ChunkBuilder.duplicate_of

    def duplicate_of(self, original, phone):
        made.append((original["phone"], phone))
        return original_duplicate_of(self, original, phone)

    monkeypatch.setattr(demo.ChunkBuilder, "duplicate_of", duplicate_of)
    demo.generate(business, customers=customers, orders=customers, rng=random.Random(7))
    return made


def found_pairs(business):
    phones = dict(Customer.objects.filter(business=business).values_list("pk", "phone"))
    pairs = DuplicateCandidate.objects.filter(business=business).values_list("customer_a", "customer_b")
    return {frozenset((phones[a], phones[b])) for a, b in pairs}


@requires_postgres
def test_the_scan_finds_every_duplicate_seed_demo_makes(business, monkeypatch):
    made = seeded_duplicates(business, monkeypatch, customers=1500)
    assert len(made) > 15

    services.detect_duplicates(business=business)

    missed = [pair for pair in made if frozenset(pair) not in found_pairs(business)]
    assert not missed


def test_without_postgresql_the_scan_still_finds_the_same_email_duplicates(business, monkeypatch):
    made = seeded_duplicates(business, monkeypatch, customers=600)
    emails = dict(Customer.objects.filter(business=business).values_list("phone", "email"))

    services.detect_duplicates(business=business)

    same_email = [pair for pair in made if emails[pair[0]] and emails[pair[0]] == emails[pair[1]]]
    assert same_email and all(frozenset(pair) in found_pairs(business) for pair in same_email)
