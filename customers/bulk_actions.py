"""Actions on many customers at once: the rows picked on the customer list, every customer
of its current filter, or a segment's members (the list's `segment` filter). The customers
app registers its own (tags); other apps register theirs from their AppConfig.ready()
(segments: static segment membership; loyalty: tier override), so that customers shows
them without importing those apps:

    bulk_actions.register("add_to_segment", label="Add to a static segment",
                          permission="customers.use_segments", form=StaticSegmentForm,
                          run=add_to_segment)

`form(business=...)` is a Django form class asking what the action needs; `run(business=,
customers=, actor=, **form.cleaned_data)` does it to a Customer queryset, writing each
touched customer's Activity, and returns a BulkResult. An action with its own page gives
`url` instead (a URL name, called with the selection's query string). The service
customers.services.bulk_actions runs an action, as a job with progress over
BULK_ACTION_SYNC_MAX customers."""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class BulkResult:
    """How many customers an action changed, and how many it skipped, by reason."""

    changed: int = 0
    skipped: dict = field(default_factory=dict)

    def skip(self, reason, count=1):
        if count:
            self.skipped[reason] = self.skipped.get(reason, 0) + count

    def add(self, other):
        self.changed += other.changed
        for reason, count in other.skipped.items():
            self.skip(reason, count)

    def as_json(self):
        return {"changed": self.changed, "skipped": dict(self.skipped)}


@dataclass(frozen=True)
class BulkAction:
    key: str
    label: str
    permission: str
    form: type | None
    run: Callable | None
    url: str | None
    order: int


ACTIONS: dict[str, BulkAction] = {}


def register(key, *, label, permission, form=None, run=None, url=None, order=100):
    """Offer an action on selected customers; registering a key again replaces it."""
    if (run is None) == (url is None):
        raise ValueError("A bulk action gives either `run` (with an optional form) or `url`.")
    ACTIONS[key] = BulkAction(
        key=key, label=label, permission=permission, form=form, run=run, url=url, order=order
    )


def actions_for(user):
    """The actions this user may run, in their order."""
    allowed = [action for action in ACTIONS.values() if user.has_perm(action.permission)]
    return sorted(allowed, key=lambda action: (action.order, action.label))
