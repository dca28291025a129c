"""What one worker of a parallel run (pytest-xdist) owns: its name and its ports.

`make test` runs the suite in several worker processes. Each is a pytest
session of its own, so the session fixtures of tests/conftest.py already give
each worker its own database schema or SQLite file and its own temporary
folders; what lives outside pytest (TCP ports, Redis keys, PostgreSQL schema
names) is told apart with the names below. Run without xdist, the suite is one
worker, "main".
"""

import os
import socket

# Attempts at drawing a port of this worker's own before giving up: each draw
# is one of the worker's with the chance 1/workers, so this bound is never
# reached unless the kernel keeps handing out one port.
PORT_DRAWS = 1000


def worker_name() -> str:
    """This worker's name: "gw0", "gw1", ... under pytest-xdist, else "main"."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def worker_slot() -> tuple[int, int]:
    """This worker's number and the number of workers of the run: (0, 1) alone."""
    name = os.environ.get("PYTEST_XDIST_WORKER")
    if name is None:
        return 0, 1
    return int(name.removeprefix("gw")), int(os.environ["PYTEST_XDIST_WORKER_COUNT"])


def port_owner(port: int, workers: int) -> int:
    """The number of the worker that may use ``port`` among ``workers``.

    By half the port number: Linux gives ports of one parity to bind(port 0)
    (the other goes to outgoing connections), so the port number itself modulo
    two workers would leave one of them none.
    """
    return (port >> 1) % workers


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now, for a server a test starts.

    A free port is found by binding to port 0 and closing the probe, so another
    process may take it before the server binds it. Each worker keeps to the
    ports that ``port_owner`` gives it: two workers of one run never draw the
    same port, and a server never answers a readiness check meant for another
    worker's server.
    """
    number, count = worker_slot()
    for _ in range(PORT_DRAWS):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port_owner(port, count) == number:
            return port
    raise RuntimeError(f"no free loopback port for worker {number} of {count}")
