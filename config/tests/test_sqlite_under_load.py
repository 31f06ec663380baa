"""SQLite, the default of `make run`, as a real embedded database: a real `qcluster` exports
20,000 orders and imports 20,000 customers while a user logs in again and again and browses
the list, a profile and the job pages through a real `runserver`; every answer is a page or
a redirect, and both jobs end done.

It runs in the SQLite pass of CI (`.ci/run` runs `make test` once with a SQLite DATABASE_URL),
on a file database of its own, so the processes share it as they do under `make run`."""

import http.cookiejar
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from django.conf import settings
from django.db import connection

only_on_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="runs in the SQLite pass (DATABASE_URL=sqlite:///...)"
)

ROWS = 20_000
DEADLINE_SECONDS = 240
OK = (200, 302)


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A user's session over HTTP: cookies, the CSRF token, and every answer it got."""

    def __init__(self, base):
        self.base = base
        self.answers = []
        self.log_in_again()

    def log_in_again(self):
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirects()
        )
        self.get("/accounts/login/")
        status, _, location = self.post("/accounts/login/", {"username": "demo-owner", "password": "demo"})
        assert (status, location) == (302, "/"), "the login failed"

    def csrf_token(self):
        return next(cookie.value for cookie in self.cookies if cookie.name == "csrftoken")

    def request(self, path, data=None, content_type=None):
        headers = {"X-CSRFToken": self.csrf_token()} if data is not None else {}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        try:
            with self.opener.open(request, timeout=60) as response:
                answer = (response.status, response.read(), response.headers.get("Location"))
        except urllib.error.HTTPError as error:
            answer = (error.code, error.read(), error.headers.get("Location"))
        self.answers.append((path, answer[0]))
        return answer

    def get(self, path):
        return self.request(path)

    def post(self, path, fields):
        fields = {"csrfmiddlewaretoken": self.csrf_token(), **fields}
        return self.request(path, urllib.parse.urlencode(fields).encode())

    def upload(self, path, fields, name, content):
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
            for key, value in {"csrfmiddlewaretoken": self.csrf_token(), **fields}.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: text/csv\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request(path, body, f"multipart/form-data; boundary={boundary}")

    def job(self, page):
        return json.loads(self.get(f"{page}status/")[1])


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(*args):
    return [sys.executable, str(settings.BASE_DIR / "manage.py"), *args]


def start(command, env, log):
    return subprocess.Popen(
        command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(process):
    """SIGTERM, as Ctrl-C under `make run`; the whole process group if it does not stop."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_for(base, deadline):
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=5)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    pytest.fail("runserver did not start")


def database_options(url):
    command = "from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS'))"
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {command}"],
        cwd=settings.BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_only_sqlite_gets_wal_immediate_transactions_and_a_busy_timeout(tmp_path):
    sqlite = database_options(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    postgres = database_options("postgres://postgres@127.0.0.1:5432/anything")

    assert "PRAGMA journal_mode=WAL" in sqlite and "'transaction_mode': 'IMMEDIATE'" in sqlite
    assert "'timeout': 20" in sqlite
    assert "PRAGMA" not in postgres and "transaction_mode" not in postgres


@only_on_sqlite
def test_a_worker_exports_and_imports_20000_rows_while_a_user_logs_in_and_browses(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DEBUG": "1",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "Q_SYNC": "0",
        "Q_WORKERS": "2",
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run(manage("migrate", "--noinput", "-v0"), cwd=settings.BASE_DIR, env=env, check=True)
    subprocess.run(
        manage("seed_demo", "--customers", "1000", "--orders", str(ROWS), "--seed", "1"),
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    people = "phone,first_name,last_name\n" + "".join(
        f"+1212{3_000_000 + n:07d},Import{n},Load\n" for n in range(ROWS)
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(tmp_path / "processes.log", "w") as log:
        processes = [
            start(manage("qcluster"), env, log),
            start(manage("runserver", "--noreload", f"127.0.0.1:{port}"), env, log),
        ]
        try:
            deadline = time.monotonic() + DEADLINE_SECONDS
            wait_for(base, deadline)
            user = Browser(base)
            profile = re.search(rb'href="(/customers/\d+/)"', user.get("/customers/")[1]).group(1).decode()
            export = user.post("/customers/export/", {"kind": "orders", "format": "csv"})[2]
            check = user.upload(
                "/customers/import/", {"kind": "customers", "encoding": "auto"}, "people.csv", people.encode()
            )[2]
            assert re.fullmatch(r"/customers/export/\d+/", export), export
            assert re.fullmatch(r"/customers/import/\d+/", check), check

            confirmed = False
            visits = 0
            while time.monotonic() < deadline:
                visits += 1
                for path in ("/customers/", profile, "/customers/?q=Import1", export, check, "/"):
                    user.get(path)
                if visits % 3 == 0:
                    user.log_in_again()
                imported, exported = user.job(check), user.job(export)
                if imported["label"] == "Checked" and not confirmed:
                    assert user.post(f"{check}confirm/", {})[0] == 302
                    confirmed = True
                if confirmed and imported["label"] == "Imported" and exported["status"] == "done":
                    break
                assert not imported["finished"] or imported["status"] == "done", imported
                assert not exported["finished"] or exported["status"] == "done", exported
                time.sleep(0.5)
            download = user.get(f"{export}download/")
        finally:
            for process in processes:
                stop(process)

    failures = [(path, status) for path, status in user.answers if status not in OK]
    assert not failures, failures
    assert (exported["status"], imported["status"], imported["label"]) == ("done", "done", "Imported")
    assert download[0] == 200 and download[1].count(b"\n") == ROWS + 1
    with sqlite3.connect(database) as db:
        imported_rows = db.execute("select count(*) from customers_customer where last_name = 'Load'")
        assert imported_rows.fetchone() == (ROWS,)
    assert visits >= 3, "the user browsed while the jobs ran"
