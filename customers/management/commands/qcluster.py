"""`qcluster`: django-q2's task worker, stopping cleanly however many signals arrive.

django-q2 stops the cluster from inside its signal handler. A signal that lands while that
handler holds the stop event's lock (Ctrl-C reaches every process of the terminal's group
while `make run` or a supervisor sends SIGTERM) runs the handler again, which waits for
that lock forever (django-q2 issue #346). Here the handler only takes note; the main loop
stops the cluster.
"""

import os
import signal

from django_q.cluster import Cluster
from django_q.management.commands import qcluster

POLL_SECONDS = 0.5


class Command(qcluster.Command):
    def handle(self, *args, **options):
        if options["cluster_name"]:
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
        received = []
        cluster = Cluster()
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda number, frame: received.append(number))
        cluster.start()
        while not received and not options["run_once"] and cluster.sentinel.is_alive():
            cluster.sentinel.join(timeout=POLL_SECONDS)
        cluster.stop()
