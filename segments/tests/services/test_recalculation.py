"""Full recalculations: the members equal a fresh evaluation of the rules; joins and leaves
are written to the history and the timelines; the job, the schedules and the snapshots."""

import datetime as dt

from django.db.models import Sum
from django.utils import timezone

from conftest import requires_postgres
from customers.bulk.writers import recompute_stats
from customers.models import Activity, AuditEntry, Customer, Job, Order
from segments import rules, services
from segments.models import Segment, SegmentMembershipEvent, SegmentRecalculation, SegmentSnapshot
from segments.tests.factories import SPENT_OVER_100_IN_90_DAYS, dynamic, member_ids, order


def spent_over_100_in_90_days(business):
    """The same members, the plain way."""
    since = timezone.now() - dt.timedelta(days=90)
    totals = (
        Order.objects.filter(business=business, status="completed", placed_at__gte=since)
        .values("customer_id")
        .annotate(total=Sum("amount"))
    )
    return {row["customer_id"] for row in totals if row["total"] > 100}


def test_a_new_dynamic_segment_gets_the_members_its_rules_match(business):
    rich = order(business, amount="150.00", days_ago=10)
    order(business, amount="150.00", days_ago=200)
    order(business, amount="50.00", days_ago=5)

    segment = dynamic(business)

    assert member_ids(segment) == {rich.pk} == spent_over_100_in_90_days(business)
    assert segment.member_count == 1
    assert segment.last_recalculated_at is not None
    job = SegmentRecalculation.objects.get(segment=segment)
    assert (job.status, job.joined, job.left) == (Job.Status.DONE, 1, 0)


def test_a_recalculation_equals_a_fresh_evaluation_after_the_data_moved(business):
    customers = [order(business, amount=f"{40 * n}.00", days_ago=n * 20) for n in range(1, 8)]
    segment = dynamic(business)
    before = member_ids(segment)
    # Orders age out and come in without any event reaching the segment.
    Order.objects.filter(customer=customers[0]).update(placed_at=timezone.now() - dt.timedelta(days=400))
    order(business, customers[5].phone, amount="500.00", days_ago=1)
    Order.objects.filter(customer=customers[1]).update(amount="300.00")
    # The customers' stored stats follow their orders, as the services keep them.
    recompute_stats([customer.pk for customer in customers])

    joined, left = services.recalculate(segment)

    fresh = set(rules.members(segment.rules, business=business).values_list("pk", flat=True))
    assert member_ids(segment) == fresh == spent_over_100_in_90_days(business)
    assert (joined, left) == (len(fresh - before), len(before - fresh))
    segment.refresh_from_db()
    assert segment.member_count == len(fresh)


def test_joins_and_leaves_are_in_the_history_and_on_the_timelines(business, owner):
    ann = order(business, amount="150.00", days_ago=10)
    segment = dynamic(business, actor=owner)
    Order.objects.filter(customer=ann).update(placed_at=timezone.now() - dt.timedelta(days=100))
    recompute_stats([ann.pk])
    bob = order(business, amount="120.00", days_ago=3)

    services.recalculate(segment, actor=owner)

    events = list(segment.events.order_by("id").values_list("customer_id", "kind", "cause"))
    assert events[0] == (ann.pk, "joined", "recalculation")
    # One recalculation writes its joins and leaves in one statement, in no set order.
    assert sorted(events[1:]) == sorted(
        [(bob.pk, "joined", "recalculation"), (ann.pk, "left", "recalculation")]
    )
    timeline = Activity.objects.filter(customer=ann, kind__startswith="segment_").order_by("id")
    assert [(a.kind, a.data["segment"], a.actor) for a in timeline] == [
        ("segment_joined", "Big spenders", owner),
        ("segment_left", "Big spenders", owner),
    ]


def test_the_history_is_append_only_and_a_second_run_changes_nothing(business):
    order(business, amount="150.00", days_ago=10)
    segment = dynamic(business)

    assert services.recalculate(segment) == (0, 0)
    assert SegmentMembershipEvent.objects.filter(segment=segment).count() == 1


def test_a_recalculation_never_reaches_another_business(business, other_business):
    order(other_business, "+442071838750", amount="900.00", days_ago=1)
    segment = dynamic(business)
    assert member_ids(segment) == set()


def test_the_job_fails_in_words_when_the_segment_was_deleted(business, owner):
    segment = dynamic(business)
    job = SegmentRecalculation.objects.create(business=business, segment=segment, actor=owner)
    services.delete_segment(segment=segment, actor=owner)

    services.run_recalculation(job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "deleted" in job.failure


def test_the_sweeper_fails_a_recalculation_stuck_past_its_timeout(business, settings):
    from customers import jobs

    segment = dynamic(business)
    stuck = SegmentRecalculation.objects.create(
        business=business,
        segment=segment,
        status=Job.Status.RUNNING,
        heartbeat_at=timezone.now() - dt.timedelta(seconds=settings.JOB_STALE_SECONDS + 1),
    )
    assert services.running_recalculation(segment) == stuck

    jobs.fail_stale_jobs()

    stuck.refresh_from_db()
    assert stuck.status == Job.Status.FAILED
    assert services.running_recalculation(segment) is None


@requires_postgres
def test_a_recalculation_past_its_statement_timeout_fails_and_changes_nothing(
    business, settings, monkeypatch
):
    order(business, amount="150.00", days_ago=10)
    segment = dynamic(business)
    segment.memberships.all().delete()
    Segment.objects.filter(pk=segment.pk).update(member_count=0)
    settings.SEGMENT_RECALCULATION_TIMEOUT_SECONDS = 0.001  # 1 ms: the first statement stops
    slow = Customer.objects.extra(where=["pg_sleep(0.05) IS NOT NULL"])
    monkeypatch.setattr(rules, "members", lambda *args, **kwargs: slow.filter(business=business))
    job = services.request_recalculation(segment=segment, actor=None)

    services.run_recalculation(job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "longer than" in job.failure
    assert member_ids(segment) == set()


def test_schedules_queue_the_time_relative_segments_hourly_and_the_others_nightly(business):
    relative = dynamic(business)
    fixed = dynamic(
        business,
        {"operator": "AND", "rules": [{"field": "tier", "operator": "in", "value": ["GOLD"]}]},
        "Gold",
    )
    assert (relative.time_relative, fixed.time_relative) == (True, False)

    hourly = services.recalculate_due(time_relative=True)
    nightly = services.recalculate_due(time_relative=False)

    assert [job.segment for job in hourly] == [relative]
    assert [job.segment for job in nightly] == [fixed]


def test_a_daily_snapshot_records_each_segments_size(business):
    order(business, amount="150.00", days_ago=10)
    segment = dynamic(business)
    today = timezone.localdate()

    services.take_snapshots(date=today)
    services.take_snapshots(date=today)

    assert list(SegmentSnapshot.objects.values_list("segment_id", "date", "member_count")) == [
        (segment.pk, today, 1)
    ]


def test_creating_changing_and_deleting_a_segment_is_audited(business, owner):
    segment = dynamic(business, actor=owner)
    services.update_segment(
        segment=segment, actor=owner, name="Top spenders", description="", rules=SPENT_OVER_100_IN_90_DAYS
    )
    services.delete_segment(segment=segment, actor=owner)
    actions = list(
        AuditEntry.objects.filter(business=business).order_by("id").values_list("action", flat=True)
    )
    assert actions == [
        "segment.created",
        "segment.recalculation_requested",
        "segment.updated",
        "segment.deleted",
    ]
    # The name is free again once the segment is deleted.
    assert dynamic(business, name="Top spenders").pk != segment.pk


def test_a_recalculation_cancelled_before_it_starts_changes_nothing(business, owner):
    order(business, amount="150.00", days_ago=10)
    segment = dynamic(business)
    segment.memberships.all().delete()
    job = services.request_recalculation(segment=segment, actor=owner)
    Job.objects.filter(pk=job.pk).update(cancel_requested_at=timezone.now())

    services.run_recalculation(job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert member_ids(segment) == set()
