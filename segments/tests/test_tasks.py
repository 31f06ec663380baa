"""The segments' schedules: created once, each calling its task."""

from django_q.models import Schedule

from segments import tasks
from segments.models import PendingEvaluation
from segments.tests.factories import dynamic, member_ids, order


def test_the_schedules_are_created_once_after_migrate(db):
    Schedule.objects.filter(name__startswith="Segments:").delete()
    tasks.ensure_schedules()
    tasks.ensure_schedules()

    schedules = {s.func: s for s in Schedule.objects.filter(name__startswith="Segments:")}
    assert set(schedules) == {
        "segments.tasks.evaluate_pending",
        "segments.tasks.recalculate_hourly",
        "segments.tasks.recalculate_nightly",
        "segments.tasks.take_snapshots",
    }
    assert (
        schedules["segments.tasks.evaluate_pending"].schedule_type,
        schedules["segments.tasks.evaluate_pending"].minutes,
    ) == (Schedule.MINUTES, 1)
    assert schedules["segments.tasks.recalculate_hourly"].schedule_type == Schedule.HOURLY


def test_the_every_minute_task_applies_the_noted_events(business):
    segment = dynamic(business)
    rich = order(business, amount="150.00", days_ago=1)

    tasks.evaluate_pending()

    assert member_ids(segment) == {rich.pk}
    assert not PendingEvaluation.objects.exists()
