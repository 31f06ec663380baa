"""The segments pages: list with sizes, the form and its preview, a segment's page, the
customer list's segment filter and the profile's panel."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from segments.models import Segment, SegmentRecalculation, SegmentSnapshot
from segments.tests.factories import SPENT_OVER_100_IN_90_DAYS, dynamic, order, static


@pytest.fixture
def owner_client(client_for, owner):
    return client_for(owner)


def test_the_list_creates_the_presets_and_shows_counts_charts_and_recalculation_times(owner_client, business):
    order(business, amount="150.00", days_ago=2)
    segment = dynamic(business)
    SegmentSnapshot.objects.create(
        segment=segment, date=timezone.localdate() - dt.timedelta(days=1), member_count=0
    )

    body = owner_client.get("/segments/").content.decode()

    assert "Big spenders" in body and "Churned" in body
    assert "<polyline" in body
    assert (
        segment.last_recalculated_at.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%d") in body
    )
    # The presets' first recalculations are queued: the page says so honestly.
    assert "Queued since" in body


def test_a_running_recalculation_reads_calculating_since(owner_client, business):
    segment = dynamic(business)
    started = timezone.now() - dt.timedelta(minutes=3)
    SegmentRecalculation.objects.create(
        business=business, segment=segment, status="running", started_at=started
    )

    body = owner_client.get(f"/segments/{segment.pk}/").content.decode()

    assert "Calculating since" in body


def test_support_staff_may_not_open_segments(client_for, support):
    assert client_for(support).get("/segments/").status_code == 403


def test_the_form_previews_and_saves_a_dynamic_segment(owner_client, business):
    rich = order(business, amount="150.00", days_ago=2)
    data = {"name": "Big spenders", "kind": "dynamic", "rules": json.dumps(SPENT_OVER_100_IN_90_DAYS)}

    preview = owner_client.post("/segments/new/", {**data, "preview": "1"}).content.decode()
    fragment = owner_client.post("/segments/preview/", data)
    saved = owner_client.post("/segments/new/", {**data, "save": "1"})

    assert 'data-testid="preview-count">1<' in preview and rich.phone in preview
    assert fragment.status_code == 200 and rich.phone in fragment.content.decode()
    segment = Segment.objects.get(name="Big spenders")
    assert saved.status_code == 302 and saved["Location"] == f"/segments/{segment.pk}/"


def test_a_bad_rule_is_a_form_error_pointing_at_the_rule(owner_client):
    rules = {
        "operator": "AND",
        "rules": [
            {"field": "total_spent", "operator": "greater_than", "value": "x", "timeframe": "lifetime"}
        ],
    }
    response = owner_client.post(
        "/segments/new/", {"name": "X", "kind": "dynamic", "rules": json.dumps(rules)}
    )
    fragment = owner_client.post("/segments/preview/", {"name": "X", "kind": "dynamic", "rules": "{oops"})

    assert response.status_code == 200
    assert "rules[0].value:" in response.content.decode()
    assert fragment.status_code == 400 and "not valid JSON" in fragment.content.decode()
    assert not Segment.objects.exists()


def test_a_segment_page_shows_members_history_and_the_export(owner_client, business):
    rich = order(business, amount="150.00", days_ago=2)
    segment = dynamic(business)

    body = owner_client.get(f"/segments/{segment.pk}/").content.decode()

    assert rich.phone in body
    assert 'data-testid="history"' in body and "Joined" in body
    assert f'action="/customers/export/?segment={segment.pk}"' in body
    export = owner_client.post(
        f"/customers/export/?segment={segment.pk}", {"kind": "customers", "format": "csv"}
    )
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert len(lines) == 2 and rich.phone in lines[1]


def test_the_recalculate_button_queues_a_job(owner_client, business):
    segment = dynamic(business)
    owner_client.post(f"/segments/{segment.pk}/recalculate/")
    assert SegmentRecalculation.objects.filter(segment=segment).count() == 2


def test_a_csv_of_phones_fills_a_static_segment_and_reports_bad_rows(owner_client, business):
    ann = order(business, "+14155550101")
    segment = static(business)
    upload = owner_client.post(
        f"/segments/{segment.pk}/phones/",
        {"file": _file(b"phone\n+14155550101\n+14155550199\n")},
        follow=True,
    )
    body = upload.content.decode()
    assert "1 customers added" in body and "Row 3: No customer has the phone +14155550199." in body
    assert list(segment.memberships.values_list("customer_id", flat=True)) == [ann.pk]


def _file(content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("phones.csv", content, content_type="text/csv")


def test_the_customer_list_filters_by_segment(client_for, support, business):
    rich, poor = order(business, amount="150.00", days_ago=2), order(business)
    segment = dynamic(business)

    body = client_for(support).get("/customers/", {"segment": segment.pk}).content.decode()

    assert rich.phone in body and poor.phone not in body


def test_the_profile_shows_the_customers_segments(owner_client, business):
    rich = order(business, amount="150.00", days_ago=2)
    dynamic(business)

    body = owner_client.get(f"/customers/{rich.pk}/").content.decode()

    assert 'data-testid="segments-panel"' in body and "Big spenders" in body


def test_editing_and_deleting_from_the_pages(owner_client, business):
    segment = dynamic(business)
    owner_client.post(
        f"/segments/{segment.pk}/edit/",
        {
            "name": "Renamed",
            "kind": "dynamic",
            "active": "on",
            "rules": json.dumps(SPENT_OVER_100_IN_90_DAYS),
        },
    )
    segment.refresh_from_db()
    assert segment.name == "Renamed"
    owner_client.post(f"/segments/{segment.pk}/delete/")
    assert owner_client.get(f"/segments/{segment.pk}/").status_code == 404


def test_the_profile_panel_costs_one_query_however_many_segments(owner_client, business):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rich = order(business, amount="150.00", days_ago=2)
    owner_client.get(f"/customers/{rich.pk}/")  # the first request of a session saves it

    def queries_of_profile():
        with CaptureQueriesContext(connection) as queries:
            owner_client.get(f"/customers/{rich.pk}/")
        return len(queries)

    alone = queries_of_profile()
    for name in ("One", "Two", "Three"):
        dynamic(business, name=name)
    assert queries_of_profile() == alone
