"""A real HTTP receiver for the webhook tests: a local server in a thread that records
every request and answers as told (status codes in turn, or a pause past the timeout)."""

import http.server
import threading
import time
from dataclasses import dataclass


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 128


class Receiver:
    def __init__(self):
        self.requests: list[Received] = []
        self.answers: list = []  # each an int status or ("sleep", seconds); then 200
        # Or an answer chosen by the request's body (None: the next of `answers`).
        self.answer_for = lambda body: None
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.requests.append(Received(self.path, dict(self.headers), body))
                    answer = receiver.answer_for(body)
                    if answer is None:
                        answer = receiver.answers.pop(0) if receiver.answers else 200
                if isinstance(answer, tuple):
                    time.sleep(answer[1])
                    answer = 200
                self.send_response(answer)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"answer " + str(answer).encode() + b" " + b"x" * 5000)

            def log_message(self, *args):
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hook"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
