"""Presets: created once for every business, editable, computed by seed_demo."""

import random

from customers.models import Customer
from segments import rules, services
from segments.models import Segment
from segments.services.presets import PRESETS
from segments.tests.factories import order


def test_every_preset_is_created_once_with_valid_rules(business, other_business):
    created = services.ensure_presets(business=business)
    assert services.ensure_presets(business=business) == []
    services.ensure_presets(business=other_business)

    assert sorted(s.preset for s, _ in created) == sorted(p.key for p in PRESETS)
    assert Segment.objects.filter(business=other_business).count() == len(PRESETS)
    for preset in PRESETS:
        assert (
            rules.clean_rules(preset.rules) == Segment.objects.get(business=business, preset=preset.key).rules
        )


def test_a_deleted_preset_stays_deleted_and_an_edited_one_keeps_its_edit(business, owner):
    services.ensure_presets(business=business)
    churned = Segment.objects.get(business=business, preset="churned")
    services.delete_segment(segment=churned, actor=owner)
    at_risk = Segment.objects.get(business=business, preset="at_risk")
    services.update_segment(segment=at_risk, actor=owner, name="Slipping away", description="")

    services.ensure_presets(business=business)

    assert not Segment.objects.live().filter(business=business, preset="churned").exists()
    assert Segment.objects.get(business=business, preset="at_risk").name == "Slipping away"


def test_seed_demo_computes_the_presets_and_fills_a_static_segment(business, owner):
    for days in (5, 100, 200):
        order(business, amount="300.00", days_ago=days)

    services.seed_demo_segments(business=business, actor=owner, rng=random.Random(1))

    for segment in Segment.objects.filter(business=business).dynamic():
        expected = set(rules.members(segment.rules, business=business).values_list("pk", flat=True))
        assert set(segment.memberships.values_list("customer_id", flat=True)) == expected
        assert segment.last_recalculated_at is not None
    churned = Segment.objects.get(business=business, preset="churned")
    assert churned.member_count == 1
    panel = Segment.objects.get(business=business, kind="static")
    assert panel.member_count == Customer.objects.filter(business=business).count() == 3
