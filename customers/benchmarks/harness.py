"""Benchmark harness of `manage.py bench`.

`manage.py bench` imports `<app>.benchmarks` of every local app that has one and calls its
`figures(context)`, which yields `Figure`s. Each figure pairs our code path, measured end
to end (pages through the test client, so view, template and queries count), with
hand-written SQL doing the same core work in the same run, and prints one line:

    search.phone_fragment     p50=  4.1ms p95=  6.3ms | raw p50=  1.2ms p95=  2.0ms | ratio 3.4x

The ratio is our p50 over the raw p50: what the framework and the page cost on top of
the data access itself. Search and list figures come twice: the page, and `.query`, the
list's own queryset (built by the view's filter code, evaluated with its tags) against
the same SQL: what the ORM costs on the data access alone.

A `LoadFigure` is measured by a load generator against a running server instead
(benchmarks/http.py): it drives the load itself and returns its line.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from customers import services

NAME_WIDTH = 32


@dataclass
class Figure:
    name: str
    ours: Callable[[int], object]  # one run of our code path; gets the run number
    raw: Callable[[int], object] | None = None  # the same work in hand-written SQL
    runs: int | None = None  # default: the context's repeat
    count_queries: bool = False
    unit: str = ""  # e.g. "orders": also print runs per second
    warmup: int | None = None  # default: measure()'s
    per_run: int = 1  # units of work in one run (e.g. 100000 rows): the rate counts units
    note: Callable[[], str] | None = None  # more to print after the run, e.g. peak memory


@dataclass
class LoadFigure:
    name: str
    run: Callable[[], str]  # drives the load and returns the line to print


@dataclass
class Result:
    figure: Figure
    ours: list = field(default_factory=list)  # seconds per run
    raw: list = field(default_factory=list)
    queries: int | None = None


@dataclass
class BenchContext:
    business: object
    users: dict  # role -> user of the business
    customers: int  # the size asked for with --customers
    repeat: int
    rng: object
    only: tuple = ()  # name prefixes given with --only; empty: every figure
    duration: int = 10  # seconds of load per LoadFigure run
    workers: tuple = (2, 4)  # server worker processes of the LoadFigures
    clients: tuple = (8, 32)  # concurrent connections of the LoadFigures

    def wants(self, *names):
        return not self.only or any(name.startswith(prefix) for name in names for prefix in self.only)

    def client_for(self, user):
        client = Client(HTTP_HOST=allowed_host())
        client.force_login(user, backend="customers.tenancy.MembershipRoleBackend")
        return client


def create_api_key(business, name="bench"):
    """The API key the figures call the API with; returns (api_key, secret)."""
    return services.create_api_key(business=business, name=name, actor=None)


def allowed_host():
    for host in settings.ALLOWED_HOSTS:
        if "*" not in host:
            return host.lstrip(".")
    return "localhost"


def percentile(values, fraction):
    """Linear interpolation between the closest ranks."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def timed(function, run):
    started = time.perf_counter()
    function(run)
    return time.perf_counter() - started


def measure(figure, repeat, warmup=2):
    """Warm up, then time our path and the raw one alternately, so both see the same
    caches and background load, each going first every other run (whichever runs second
    finds the pages the first one read in memory)."""
    runs = figure.runs or repeat
    for run in range(warmup if figure.warmup is None else figure.warmup):
        figure.ours(run)
        if figure.raw:
            figure.raw(run)
    result = Result(figure)
    if figure.count_queries:
        with CaptureQueriesContext(connection) as queries:
            figure.ours(0)
        result.queries = len(queries)
    for run in range(runs):
        if figure.raw and run % 2:
            result.raw.append(timed(figure.raw, run))
        result.ours.append(timed(figure.ours, run))
        if figure.raw and not run % 2:
            result.raw.append(timed(figure.raw, run))
    return result


def milliseconds(values):
    return f"p50={percentile(values, 0.5) * 1000:6.1f}ms p95={percentile(values, 0.95) * 1000:6.1f}ms"


def format_result(result):
    figure = result.figure
    parts = [f"{figure.name:<{NAME_WIDTH}}{milliseconds(result.ours)}"]
    if result.raw:
        parts.append(f"raw {milliseconds(result.raw)}")
        parts.append(f"ratio {percentile(result.ours, 0.5) / percentile(result.raw, 0.5):4.1f}x")
    if result.queries is not None:
        parts.append(f"queries {result.queries}")
    if figure.unit:
        rate = f"{figure.per_run * len(result.ours) / sum(result.ours):.0f} {figure.unit}/s"
        if result.raw:
            rate += f" (raw {figure.per_run * len(result.raw) / sum(result.raw):.0f}/s)"
        parts.append(rate)
    if figure.note:
        parts.append(figure.note())
    return " | ".join(parts)


def format_error(name, error):
    return f"{name:<{NAME_WIDTH}}ERROR {type(error).__name__}: {error}"


def run_figures(figures, repeat, write, wanted=lambda name: True):
    """Measure each wanted figure and write its line; a figure that fails writes an error
    line and the others still run. Returns the number of failures."""
    failures = 0
    iterator = iter(figures)
    while True:
        try:
            figure = next(iterator)
        except StopIteration:
            return failures
        except Exception as error:
            write(format_error("(preparing figures)", error))
            return failures + 1
        if not wanted(figure.name):
            continue
        try:
            write(figure.run() if isinstance(figure, LoadFigure) else format_result(measure(figure, repeat)))
        except Exception as error:
            write(format_error(figure.name, error))
            failures += 1


def get_page(client, url):
    response = client.get(url, secure=True)
    if response.status_code != 200:
        raise AssertionError(f"GET {url} answered {response.status_code}")
    return response


def fetch(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
