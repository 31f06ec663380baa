import datetime as dt

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from customers import schedules

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "func", "schedule_type"),
    [
        ("Nightly duplicate scan", "customers.tasks.detect_duplicates_everywhere", Schedule.DAILY),
        ("Fail stale import and export jobs", "customers.tasks.fail_stale_jobs", Schedule.MINUTES),
        ("Nightly tier recalculation", "loyalty.tasks.recalculate_tiers_everywhere", Schedule.DAILY),
        ("Expire tier overrides", "loyalty.tasks.expire_overrides", Schedule.MINUTES),
        ("Expire loyalty points", "loyalty.tasks.expire_points", Schedule.DAILY),
        ("Segments: re-evaluate customers after events", "segments.tasks.evaluate_pending", Schedule.MINUTES),
        ("Segments: nightly recalculation", "segments.tasks.recalculate_nightly", Schedule.DAILY),
        ("Segments: daily size snapshots", "segments.tasks.take_snapshots", Schedule.DAILY),
        (
            "Nightly retention (anonymize expired deleted customers)",
            "privacy.tasks.run_retention",
            Schedule.DAILY,
        ),
        ("Delete expired data export files", "privacy.tasks.expire_data_exports", Schedule.MINUTES),
        (
            "Nightly customer lifetime value fit",
            "loyalty.tasks.fit_lifetime_values_everywhere",
            Schedule.DAILY,
        ),
    ],
)
def test_migrate_creates_the_schedules_every_app_registered(name, func, schedule_type):
    schedule = Schedule.objects.get(name=name)

    assert (schedule.func, schedule.schedule_type, schedule.repeats) == (func, schedule_type, -1)
    assert set(Schedule.objects.values_list("name", flat=True)) == set(schedules.RECURRING)


def test_migrating_again_keeps_what_an_operator_changed_and_adds_nothing_twice():
    Schedule.objects.filter(name="Nightly duplicate scan").update(
        next_run=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    )
    count = Schedule.objects.count()

    call_command("migrate", verbosity=0)

    assert Schedule.objects.count() == count
    assert Schedule.objects.get(name="Nightly duplicate scan").next_run.year == 2030


def test_a_schedule_runs_either_daily_or_every_so_many_minutes():
    with pytest.raises(ValueError, match="either daily_at a time or every so many minutes"):
        schedules.register("Both", "customers.tasks.fail_stale_jobs", daily_at=dt.time(1), minutes=5)
    assert "Both" not in schedules.RECURRING
