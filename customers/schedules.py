"""The recurring work of every app, declared once and created in django-q2's Schedule table
after every migrate. An app declares its own from its AppConfig.ready():

    schedules.register("Nightly tier recalculation", "loyalty.tasks.recalculate_tiers_everywhere",
                       daily_at=time(3, 15))
    schedules.register("Expire tier overrides", "loyalty.tasks.expire_overrides", minutes=15)

A schedule that exists already is left as it is, so an operator's change in the admin stays."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.utils import timezone
from django_q.models import Schedule


@dataclass(frozen=True)
class Recurring:
    name: str
    func: str
    daily_at: time | None
    minutes: int | None


RECURRING: dict[str, Recurring] = {}


def register(name, func, *, daily_at=None, minutes=None):
    """Run `func` (a dotted path) every day at `daily_at` (local time) or every `minutes`."""
    if (daily_at is None) == (minutes is None):
        raise ValueError("A schedule runs either daily_at a time or every so many minutes.")
    RECURRING[name] = Recurring(name=name, func=func, daily_at=daily_at, minutes=minutes)


def ensure_schedules(using="default", **kwargs):
    """Create every registered schedule that does not exist yet (connected to post_migrate)."""
    for recurring in RECURRING.values():
        if recurring.daily_at is not None:
            tomorrow = timezone.localdate() + timedelta(days=1)
            timing = {
                "schedule_type": Schedule.DAILY,
                "next_run": timezone.make_aware(datetime.combine(tomorrow, recurring.daily_at)),
            }
        else:
            timing = {"schedule_type": Schedule.MINUTES, "minutes": recurring.minutes}
        Schedule.objects.using(using).get_or_create(
            name=recurring.name, defaults={"func": recurring.func, "repeats": -1, **timing}
        )
