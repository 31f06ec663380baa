import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection
from django_q.models import Task
from django_q.tasks import async_task

from conftest import requires_postgres


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_qcluster_runs_an_enqueued_task():
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "Q_SYNC": "0",
        "Q_WORKERS": "1",
        "DEBUG": "1",
    }
    task_id = async_task("math.copysign", 2, -1, sync=False)
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not Task.objects.filter(id=task_id).exists() and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        cluster.terminate()
        cluster.wait(timeout=30)
    task = Task.objects.get(id=task_id)
    assert task.success and task.result == -2.0


def test_the_queue_never_retries_forever_and_times_out_before_retry():
    cluster = settings.Q_CLUSTER
    assert 0 < cluster["max_attempts"] <= 5
    assert cluster["timeout"] < cluster["retry"]
    assert cluster["ack_failures"] is True
