"""The app under gunicorn on the suite's database, and requests released together.

For tests of what several web processes do at once: each request runs in a
thread of its own with its own HTTP connection, all waiting on one barrier.
"""

import http.client
import json
import os
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from benchmarks.support import start_gunicorn, stop
from tests.workers import free_port

WORKERS = 4
WAIT_SECONDS = 120  # a bound for waiting on other processes, not a timing test


@contextmanager
def gunicorn_app(database_url: str, workers: int = WORKERS, settings: dict | None = None,
                 *, every_worker: bool = False):
    """The app served by gunicorn (``workers`` processes) on loopback, on the test
    run's database, with ``settings`` as FLASK_* variables; yields its port.

    With ``every_worker``, only once every worker has loaded the app: the first
    answers as soon as one has, and until the others have, it takes every
    request alone."""
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("FLASK_") and key != "DATABASE_URL"}
    environment.update({"FLASK_SQLALCHEMY_DATABASE_URI": database_url,
                        "FLASK_SECRET_KEY": "concurrency-test-" + uuid.uuid4().hex})
    environment.update({f"FLASK_{key}": str(value) for key, value in (settings or {}).items()})
    with tempfile.TemporaryDirectory() as ready:
        if every_worker:
            environment.update({"GUNICORN_CMD_ARGS": "--config python:tests.gunicorn_ready",
                                "PERHETYO_READY_DIR": ready})
        # On a port of this worker's own (a parallel run's workers start servers
        # at the same time), and given as long as any wait here: on a machine
        # busy with the other worker, the app's import takes a while.
        process, port = start_gunicorn("app:create_app()", environment, workers=workers,
                                       port=free_port(), startup_seconds=WAIT_SECONDS)
        try:
            if every_worker:
                _wait_for_workers(process, ready, workers)
            yield port
        finally:
            stop(process)


def _wait_for_workers(process, ready: str, workers: int) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while len(os.listdir(ready)) < workers:
        assert process.poll() is None, "gunicorn stopped"
        assert time.monotonic() < deadline, f"{len(os.listdir(ready))} of {workers} workers"
        time.sleep(0.1)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict | list | None

    @property
    def code(self) -> str | None:
        """The error code of a refusal."""
        return self.body["error"]["code"] if isinstance(self.body, dict) \
            and "error" in self.body else None


def send(port: int, method: str, path: str, body=None, headers=None, *,
         connection: http.client.HTTPConnection | None = None) -> Answer:
    """One JSON request, on a connection of its own unless one is given."""
    connection = connection or http.client.HTTPConnection("127.0.0.1", port,
                                                          timeout=WAIT_SECONDS)
    try:
        connection.request(method, path, body=None if body is None else json.dumps(body),
                           headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = {"error": {"code": "not_json", "text": data[:500].decode(errors="replace")}}
    return Answer(response.status, parsed)


def at_once(port: int, requests: list[tuple]) -> list[Answer]:
    """Send every (method, path, body, headers), each on a connection of its own
    opened beforehand, released together; the answers in the order of the
    requests (status 0 for a connection that failed)."""
    barrier = threading.Barrier(len(requests))
    answers: list = [None] * len(requests)

    def client(index, request):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT_SECONDS)
        try:
            connection.connect()
            barrier.wait(timeout=WAIT_SECONDS)
            answers[index] = send(port, *request, connection=connection)
        except (OSError, http.client.HTTPException, threading.BrokenBarrierError) as error:
            answers[index] = Answer(0, {"error": {"code": type(error).__name__}})

    threads = [threading.Thread(target=client, args=(index, request))
               for index, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT_SECONDS)
    assert not any(thread.is_alive() for thread in threads)
    return answers
