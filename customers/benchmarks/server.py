"""Figures of the API as production serves it: gunicorn with sync workers against
PostgreSQL, driven by wrk, a load process of its own, with concurrent clients.

    http.orders.w2.c8    <n> req/s p50=<ms> p95=<ms> errors <n> | raw <the same for raw_wsgi> | ratio <x>

`http.<endpoint>.w<workers>.c<clients>`, for each of bench's --workers and --clients, over
--duration seconds: `orders` POSTs one order a request to /api/v1/orders, `batch` BATCH_SIZE
orders a request to /api/v1/orders/batch (also in orders/s), `customer` GETs
/api/v1/customers/{id} of customers the business has. `raw` is the same load at the same
concurrency against the same gunicorn serving raw_wsgi, the hand-written SQL of the other
figures without Django; the ratio is our p50 over raw's. Errors are answers other than 2xx,
orders of a batch whose result is not 200 or 201, and socket errors and timeouts. The load is
server.lua (see there for what it sends).
"""

import http.client
import itertools
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from customers import choices, demo, services
from customers.benchmarks.harness import NAME_WIDTH, LoadFigure, create_api_key
from customers.models import Business, Customer

ENDPOINTS = ("orders", "batch", "customer")
BATCH_SIZE = 100
KNOWN_CUSTOMERS = 1000  # whose phones half the orders carry, and whose profiles are read
NEW_NAMES = 200  # names the new customers' orders carry
# wrk's threads: the load process takes little of the machine it shares with the server.
WRK_THREADS = 2
WARMUP_SECONDS = 1
STARTUP_SECONDS = 60
SCRIPT = Path(__file__).with_name("server.lua")
ADDRESS = {"street": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}
WRK_MISSING = "the http figures need wrk, an HTTP load generator: apt-get install -y wrk (Debian's package)"


def figures(context):
    endpoints = list(itertools.product(ENDPOINTS, context.clients))
    names = {
        workers: [figure_name(endpoint, workers, clients) for endpoint, clients in endpoints]
        for workers in context.workers
    }
    if not context.wants(*itertools.chain(*names.values())):
        return
    if shutil.which("wrk") is None:
        yield LoadFigure("http", missing_wrk)
        return
    business = context.business
    api_key, secret = create_api_key(business, name="bench http")
    # The load is far past a partner's rate limit, which would answer it 429.
    rate_limit = business.api_requests_per_minute
    Business.objects.filter(pk=business.pk).update(
        api_requests_per_minute=choices.MAX_API_REQUESTS_PER_MINUTE
    )
    try:
        with tempfile.TemporaryDirectory(prefix="bench-http-") as folder:
            data = load_data(business, secret, context.rng)
            data_files = {endpoint: Path(folder, f"{endpoint}.lua") for endpoint in ENDPOINTS}
            for endpoint, path in data_files.items():
                path.write_text("return " + lua({**data, "endpoint": endpoint}))
            env = production_env(Path(folder, "static"))
            collectstatic(env)
            for workers in context.workers:
                if not context.wants(*names[workers]):
                    continue
                raw_env = {**env, "BENCH_BUSINESS_ID": str(business.pk)}
                with (
                    gunicorn("config.wsgi", workers, env, folder) as ours,
                    gunicorn("customers.benchmarks.raw_wsgi", workers, raw_env, folder) as raw,
                ):
                    warmed = set()
                    for endpoint, clients in endpoints:
                        name = figure_name(endpoint, workers, clients)
                        load = Load(endpoint, data, data_files[endpoint], clients, context.duration)
                        yield LoadFigure(name, load_run(name, load, ours, raw, warmed))
    finally:
        Business.objects.filter(pk=business.pk).update(api_requests_per_minute=rate_limit)
        services.revoke_api_key(api_key=api_key, actor=None)


def figure_name(endpoint, workers, clients):
    return f"http.{endpoint}.w{workers}.c{clients}"


def missing_wrk():
    return f"{'http':<{NAME_WIDTH}}skipped: {WRK_MISSING}"


@dataclass
class Load:
    endpoint: str
    data: dict  # the pieces of the requests (load_data)
    data_file: Path  # the same, for server.lua
    clients: int
    seconds: int


def load_run(name, load, ours, raw, warmed):
    """The figure's run: the load against our server, then against raw's (each warmed up
    with it first, once an endpoint), as one line; a line saying so when our server does
    not serve the endpoint (yet)."""

    def run():
        status, body = probe(ours, load)
        # 405: the URL serves other methods only (the privacy app's DELETE of a customer).
        if status in (404, 405):
            return f"{name:<{NAME_WIDTH}}skipped: endpoint not available ({status})"
        if not 200 <= status < 300:
            raise AssertionError(f"{load.endpoint} answered {status}: {body[:300].decode(errors='replace')}")
        if load.endpoint not in warmed:
            for port in (ours, raw):
                wrk(port, load, WARMUP_SECONDS)
            warmed.add(load.endpoint)
        mine, baseline = wrk(ours, load, load.seconds), wrk(raw, load, load.seconds)
        parts = [f"{name:<{NAME_WIDTH}}{mine.describe(load.endpoint)}"]
        parts.append(f"raw {baseline.describe(load.endpoint)}")
        if mine.requests and baseline.requests:
            parts.append(f"ratio {mine.p50_ms / baseline.p50_ms:4.1f}x")
        return " | ".join(parts)

    return run


def load_data(business, secret, rng):
    """What server.lua makes its requests of: JSON object members (without the braces) that
    it joins into orders, the phones' area codes and exchanges, and customer ids."""
    known = Customer.objects.live().filter(business=business).order_by("?")[:KNOWN_CUSTOMERS]
    sample = list(known.values_list("pk", "phone", "first_name", "last_name"))
    if not sample:
        raise RuntimeError(f"{business} has no customers to send orders for.")
    first_names, last_names = demo.NAMES["en"]
    products = []
    for sku, product, category, cents in demo.PRODUCTS:
        price = Decimal(cents) / 100
        for quantity in (1, 2, 3):
            item = {"sku": sku, "name": product, "category": category, "quantity": quantity, "price": price}
            products.append(members(amount=str(price * quantity), items=[item]))
    return {
        "secret": secret,
        "batch_size": BATCH_SIZE,
        "people": [
            members(phone=phone, first_name=first, last_name=last) for _, phone, first, last in sample
        ],
        "names": [
            members(first_name=rng.choice(first_names), last_name=rng.choice(last_names))
            for _ in range(NEW_NAMES)
        ],
        "products": products,
        "fields": members(currency=business.currency, status="completed", source="web", address=ADDRESS),
        "area_codes": demo.AREA_CODES,
        "exchanges": demo.EXCHANGES,
        "customer_ids": [pk for pk, *_ in sample],
    }


def members(**fields):
    return json.dumps(fields, default=str)[1:-1]


def lua(value):
    """`value` (ASCII strings, whole numbers, lists, dicts with name keys) as a Lua literal."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {lua(item)}" for key, item in value.items()) + "}"
    return "{" + ", ".join(lua(item) for item in value) + "}"


def probe(port, load):
    """One request like the load's: (status, body)."""
    data = load.data
    external_id = members(external_id=f"bench-probe-{secrets.token_hex(6)}")
    order = "{" + ", ".join([external_id, data["people"][0], data["products"][0], data["fields"]]) + "}"
    method, path, body = {
        "orders": ("POST", "/api/v1/orders", order),
        "batch": ("POST", "/api/v1/orders/batch", '{"orders": [' + order + "]}"),
        "customer": ("GET", f"/api/v1/customers/{data['customer_ids'][0]}", None),
    }[load.endpoint]
    headers = {"Authorization": f"Bearer {data['secret']}", "Content-Type": "application/json"}
    return request(port, method, path, body, headers)


def request(port, method, path, body=None, headers=(), timeout=30):
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        # As the TLS proxy in front of gunicorn says (else the app redirects to https).
        client.request(method, path, body, {**dict(headers), "X-Forwarded-Proto": "https"})
        response = client.getresponse()
        return response.status, response.read()
    finally:
        client.close()


@dataclass
class Run:
    """What server.lua's done() reports of one wrk run."""

    requests: float
    seconds: float
    p50_ms: float
    p95_ms: float
    failures: float  # answers other than 2xx
    socket_errors: float  # connect, read and write errors and timeouts
    orders: float  # of a batch: orders answered 200 or 201
    order_failures: float  # of a batch: orders answered otherwise

    @property
    def errors(self):
        return int(self.failures + self.socket_errors + self.order_failures)

    def describe(self, endpoint):
        if not self.requests:
            return f"no answer in {self.seconds:.0f} s, errors {self.errors}"
        rate = f"{self.requests / self.seconds:5.0f} req/s"
        if endpoint == "batch":
            rate += f" {self.orders / self.seconds:6.0f} orders/s"
        return f"{rate} p50={self.p50_ms:6.1f}ms p95={self.p95_ms:6.1f}ms errors {self.errors}"


def wrk(port, load, seconds):
    # A token of its own: the orders of every run are new (their external ids start with it).
    token = f"bench-http-{secrets.token_hex(4)}"
    command = [
        "wrk",
        f"--threads={min(WRK_THREADS, load.clients)}",
        f"--connections={load.clients}",
        f"--duration={seconds}s",
        "--timeout=30s",
        f"--script={SCRIPT}",
        f"http://127.0.0.1:{port}",
        "--",
        str(load.data_file),
        token,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    # wrk stops at the deadline, the server does not: the requests still queued (a batch
    # takes seconds) would slow the next run down. /healthz answers once they are taken.
    request(port, "GET", "/healthz", timeout=120)
    result = re.search(r"^RESULT (.+)$", done.stdout, re.MULTILINE)
    if done.returncode or result is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-500:]}")
    return Run(**{name: float(value) for name, value in (pair.split("=") for pair in result[1].split())})


def production_env(static_root):
    """The environment of a production server on the database of this process."""
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url(),
        # Longer than any bench: each worker keeps its connection.
        "CONN_MAX_AGE": "3600",
        "STATIC_ROOT": str(static_root),
    }


def collectstatic(env):
    """As a deployment does: without the manifest it writes, pages (the 404 page too) fail."""
    command = [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity=0"]
    done = subprocess.run(command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"collectstatic failed: {done.stderr.strip()[-1000:]}")


@contextmanager
def gunicorn(app, workers, env, folder):
    """`app` (a module with a WSGI `application`) served by gunicorn's sync workers on a free
    port of 127.0.0.1 with `env`; yields the port once /healthz answers 200, and stops
    gunicorn (SIGTERM, then waits) whatever happens meanwhile. Its log goes to `folder`."""
    port = free_port()
    log_path = Path(folder, f"gunicorn-{port}.log")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                f"{app}:application",
                f"--workers={workers}",
                "--worker-class=sync",
                f"--bind=127.0.0.1:{port}",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_healthy(port, process, log_path)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_healthy(port, process, log_path):
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}: {tail(log_path)}")
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass  # not listening yet
        if time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn did not answer /healthz in {STARTUP_SECONDS} s: {tail(log_path)}")
        time.sleep(0.2)


def tail(log_path):
    return log_path.read_text(errors="replace").strip()[-1000:]


def free_port():
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        return probe_socket.getsockname()[1]


def database_url():
    """The URL of this process's database (under pytest, the test database)."""
    database = connection.settings_dict
    credentials = quote(database["USER"] or "", safe="")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"], safe="")
    port = f":{database['PORT']}" if database["PORT"] else ""
    host = quote(database["HOST"] or "localhost", safe="")
    return f"postgres://{credentials}@{host}{port}/{quote(database['NAME'], safe='')}"
