"""The segments' schedules: created once, each calling its task."""

from segments import tasks
from segments.models import PendingEvaluation
from segments.tests.factories import dynamic, member_ids, order


def test_the_every_minute_task_applies_the_noted_events(business):
    segment = dynamic(business)
    rich = order(business, amount="150.00", days_ago=1)

    tasks.evaluate_pending()

    assert member_ids(segment) == {rich.pk}
    assert not PendingEvaluation.objects.exists()
