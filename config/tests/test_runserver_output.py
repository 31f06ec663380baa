import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings

STARTED = "Quit the server with"
WATCHING = "Watching for file changes"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_runserver_says_once_that_it_watches_for_file_changes(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DEBUG": "1",
        "PYTHONUNBUFFERED": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{free_port()}"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(STARTED in line for line in lines):
            line = server.stdout.readline()
            if not line:
                break
            lines.append(line)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            output, _ = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # a loaded machine; what it printed is what counts
            os.killpg(server.pid, signal.SIGKILL)
            output, _ = server.communicate()
    lines.append(output)

    assert any(STARTED in line for line in lines), "".join(lines)
    assert "".join(lines).count(WATCHING) == 1, "".join(lines)
