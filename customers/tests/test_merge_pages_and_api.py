import json
import random

import pytest
from django.urls import reverse

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
    assert "1 orders" in preview and "differs" in preview and "Merge into #" in preview

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
    body = {key: {1: ann.pk, 2: anne.pk}.get(value, value) if key == "survivor_id" else value
            for key, value in body.items()}
    if isinstance(body.get("merged_ids"), list):
        body["merged_ids"] = [{1: ann.pk, 2: anne.pk}.get(pk, pk) for pk in body["merged_ids"]]
    _, secret = services.create_api_key(business=business, name="dedupe", actor=None)

    response = post_merge(client, body, secret)

    assert response.status_code == status
    assert message in json.dumps(response.json())


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
