"""Read replicas and degraded mode.

Every query goes to the primary ("default") except the reads that opt in with
`use_replica()` / `@reads_from_replica` (the dashboard, list and search pages, segment
previews, exports): those go to a replica that is up and at most REPLICA_MAX_LAG_SECONDS
behind. A request or task that has written stays on the primary for the rest of it, and
reads inside a transaction stay there too, so nobody misses their own writes however far
a replica lags; after a write a browser is pinned to the primary for REPLICA_PIN_SECONDS,
so the page it is redirected to shows the change as well.

When the primary refuses writes (down, or read-only) and a replica is up, the process is in
degraded mode: every read goes to the replica, pages say so in a banner, and writes are
answered 503 with Retry-After.
"""

import logging
import random
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import wraps

from django.conf import settings
from django.db import DatabaseError, OperationalError, connections
from django.http import JsonResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
PIN_COOKIE = "primary_pin"
PAUSED = "Writes are paused: the primary database is unavailable; you are seeing data from a replica."
# SQLSTATEs of a primary that refuses the work rather than of a bad query: read-only
# transaction, the connection classes (08...), and a server shutting down or starting.
REFUSING_STATES = {"25006", "57P01", "57P02", "57P03"}
PRIMARY_SQL = "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'"
# Zero when the replica has replayed all it received, else the age of the last replayed commit.
LAG_SQL = """
    SELECT CASE
        WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
        ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
    END
"""


@dataclass
class Health:
    primary: str  # "ok", "read_only" or "down"
    replica_lags: dict = field(default_factory=dict)  # alias: seconds behind, None when down

    @property
    def up_replicas(self):
        return [alias for alias, lag in self.replica_lags.items() if lag is not None]

    @property
    def degraded(self):
        return self.primary != "ok" and bool(self.up_replicas)

    def usable_replicas(self):
        max_lag = settings.REPLICA_MAX_LAG_SECONDS
        return [alias for alias in self.up_replicas if self.replica_lags[alias] <= max_lag]


@dataclass
class Unit:
    """One request or task. Pinned: it reads on the primary (it wrote, or the browser's pin
    cookie says it did just before). In degraded mode, the replica all its reads go to."""

    pinned: bool = False
    wrote: bool = False
    degraded_replica: str | None = None


_unit = ContextVar("replicas_unit", default=None)
_replica = ContextVar("replicas_replica", default=None)
_last_health = {"health": None, "at": float("-inf")}
# The context of the tasks running in this process, innermost last (a task run synchronously
# inside a request gets a unit of its own, and the request's comes back after it).
_task_units = []


def check_health():
    """A fresh look at the primary and every replica."""
    lags = {alias: _lag(alias) for alias in settings.DATABASE_REPLICAS}
    health = Health(primary=_primary_state(), replica_lags=lags)
    _last_health.update(health=health, at=time.monotonic())
    return health


def health():
    """The process's last look, refreshed when older than REPLICA_CHECK_SECONDS."""
    if time.monotonic() - _last_health["at"] >= settings.REPLICA_CHECK_SECONDS:
        return check_health()
    return _last_health["health"]


def _primary_state():
    primary = connections["default"]
    try:
        with primary.cursor() as cursor:
            cursor.execute(PRIMARY_SQL if primary.vendor == "postgresql" else "SELECT false")
            read_only = cursor.fetchone()[0]
    except DatabaseError:
        return "down"
    return "read_only" if read_only else "ok"


def _lag(alias):
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(LAG_SQL)
            return float(cursor.fetchone()[0])
    except DatabaseError:
        return None


def writes_paused():
    """Whether this request runs in degraded mode (its writes would fail)."""
    unit = _unit.get()
    return unit is not None and unit.degraded_replica is not None


@contextmanager
def use_replica():
    """Reads in this block go to a usable replica, unless the request or task has written."""
    if not settings.DATABASE_REPLICAS:
        yield
        return
    usable = health().usable_replicas()
    unit_token = _unit.set(Unit()) if _unit.get() is None else None
    replica_token = _replica.set(random.choice(usable) if usable else None)
    try:
        yield
    finally:
        _replica.reset(replica_token)
        if unit_token is not None:
            _unit.reset(unit_token)


def caught_up_replica(wait_seconds=5.0):
    """A usable replica that has replayed all the primary had written when called (this
    task's writes included), waiting for one up to `wait_seconds`; else "default". For a
    task's long read, such as an export's rows, that comes after its own writes."""
    usable = health().usable_replicas() if settings.DATABASE_REPLICAS else []
    if not usable:
        return "default"
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        position = cursor.fetchone()[0]
    alias = random.choice(usable)
    deadline = time.monotonic() + wait_seconds
    with connections[alias].cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [position])
            if cursor.fetchone()[0]:
                return alias
            if time.monotonic() >= deadline:
                return "default"
            time.sleep(0.05)


def reads_from_replica(view):
    """The view's reads (its template's included) go to a replica, as with use_replica()."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        with use_replica():
            return view(*args, **kwargs)

    return wrapper


class ReplicaRouter:
    """Without replicas configured, Django's own routing; with them, see the module's doc."""

    def db_for_read(self, model, **hints):
        if not settings.DATABASE_REPLICAS:
            return None
        unit = _unit.get()
        if unit is not None and unit.degraded_replica is not None:
            return unit.degraded_replica
        replica = _replica.get()
        if replica is None or (unit is not None and unit.pinned) or connections["default"].in_atomic_block:
            # Explicitly, so that an object read from a replica is saved and followed on the primary.
            return "default"
        return replica

    def db_for_write(self, model, **hints):
        if not settings.DATABASE_REPLICAS:
            return None
        unit = _unit.get()
        if unit is not None:
            unit.pinned = unit.wrote = True
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # The replicas hold the primary's rows: objects from any of them may be related.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


def task_started(sender, **kwargs):
    """django-q2's pre_execute: each task starts unpinned and outside any use_replica() block,
    however the last one in this worker ended (or the request that ran it synchronously)."""
    if settings.DATABASE_REPLICAS:
        _task_units.append((_unit.set(Unit()), _replica.set(None)))


def task_finished(sender, **kwargs):
    if settings.DATABASE_REPLICAS and _task_units:
        unit_token, replica_token = _task_units.pop()
        _replica.reset(replica_token)
        _unit.reset(unit_token)


def refuses_writes(error):
    """Whether a database error says the primary is down or read-only (not that a query is bad)."""
    if not isinstance(error, DatabaseError):
        return False
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    if sqlstate is None:
        return isinstance(error, OperationalError)
    return sqlstate in REFUSING_STATES or sqlstate.startswith("08")


def unavailable(request):
    """The 503 of a write in degraded mode: JSON for the API, a page for the rest."""
    if request.path.startswith("/api/"):
        response = JsonResponse({"errors": {"database": [PAUSED + " Retry later."]}}, status=503)
        response["Cache-Control"] = "no-store"
    else:
        response = render(request, "database_unavailable.html", status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class ReplicaMiddleware:
    """Opens each request's unit, turns degraded mode on while the primary refuses writes, and
    pins a browser that wrote to the primary for a while."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.DATABASE_REPLICAS:
            return self.get_response(request)
        unit = Unit(pinned=PIN_COOKIE in request.COOKIES)
        current = health()
        if current.degraded:
            unit.degraded_replica = random.choice(current.up_replicas)
        request.database_degraded = current.degraded
        token = _unit.set(unit)
        try:
            if current.degraded and request.method not in ("GET", "HEAD", "OPTIONS"):
                return unavailable(request)
            response = self.get_response(request)
        finally:
            _unit.reset(token)
        if unit.wrote and request.method not in ("GET", "HEAD", "OPTIONS"):
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.REPLICA_PIN_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

    def process_exception(self, request, exception):
        """The primary refused this request's work: from now on (and for this answer) read
        from a replica, if one is up."""
        if not settings.DATABASE_REPLICAS or not refuses_writes(exception):
            return None
        current = check_health()
        if not current.degraded:
            return None
        logger.warning("The primary database refuses writes (%s): degraded mode", exception)
        _unit.get().degraded_replica = random.choice(current.up_replicas)
        request.database_degraded = True
        return unavailable(request)
