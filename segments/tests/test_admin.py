"""Django admin of segments: through the services, scoped to the business."""

import json

from segments.models import Segment
from segments.tests.factories import SPENT_OVER_100_IN_90_DAYS, dynamic


def test_an_owner_creates_changes_and_deletes_a_segment_in_the_admin(
    client_for, owner, business, other_business
):
    client = client_for(owner)
    theirs = dynamic(other_business, name="Theirs")
    rules = json.dumps(SPENT_OVER_100_IN_90_DAYS)

    added = client.post(
        "/admin/segments/segment/add/",
        {"name": "Spenders", "kind": "dynamic", "rules": rules, "active": "on"},
    )
    assert added.status_code == 302
    segment = Segment.objects.get(name="Spenders", business=business)
    assert segment.created_by == owner

    bad = client.post(
        f"/admin/segments/segment/{segment.pk}/change/",
        {"name": "Spenders", "rules": '{"operator": "AND", "rules": [{"field": "nope"}]}', "active": "on"},
    )
    assert bad.status_code == 200 and "rules[0].field" in bad.content.decode()

    client.post(f"/admin/segments/segment/{segment.pk}/delete/", {"post": "yes"})
    segment.refresh_from_db()
    assert segment.deleted_at is not None
    assert client.get(f"/admin/segments/segment/{theirs.pk}/change/").status_code == 404
