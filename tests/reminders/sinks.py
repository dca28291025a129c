"""Real servers on loopback standing in for a mail server and an SMS gateway."""

import json
import threading
import time as _time
from collections import Counter
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from tests.workers import free_port


class _MailHandler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.test"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.sink.delay:
            _time.sleep(self.sink.delay)
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.sink.lock:
            self.sink.messages.append(message)
        return "250 Message accepted for delivery"


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 keeping every message it accepts.

    ``delay`` (seconds) slows each message down, so that a dispatcher can be
    caught in the middle of a batch.
    """

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.messages = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(_MailHandler(self), hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    def keys(self) -> Counter:
        with self.lock:
            return Counter(message["X-Reminder-Key"] for message in self.messages)

    def count(self) -> int:
        with self.lock:
            return len(self.messages)


class SmsGateway:
    """An HTTP server on 127.0.0.1 taking JSON POSTs as an SMS gateway would.

    ``failures`` answers that many requests with 503 before accepting;
    ``status`` answers every request with that status instead.
    """

    def __init__(self, api_key="test-key", failures=0, status=None):
        self.api_key = api_key
        self.failures = failures
        self.status = status
        self.received = []
        self.requests = 0
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                with gateway.lock:
                    gateway.requests += 1
                    if self.headers.get("Authorization") != f"Bearer {gateway.api_key}":
                        return self._answer(401, {"error": "bad key"})
                    if gateway.status:
                        return self._answer(gateway.status, {"error": "refused"})
                    if gateway.failures > 0:
                        gateway.failures -= 1
                        return self._answer(503, {"error": "try later"})
                    message = json.loads(body)
                    gateway.received.append(message)
                    number = len(gateway.received)
                return self._answer(200, {"id": f"sms-{number}"})

            def _answer(self, status, data):
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/messages"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
