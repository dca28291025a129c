"""A parallel run's workers share nothing: the tests of a file stay on one
worker, and each worker has its own database, ports and temporary folders."""

import os
import socket
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.workers import free_port, port_owner, worker_name, worker_slot


def test_a_parallel_run_keeps_each_file_on_one_worker(request):
    """A module's fixtures are built once only if its tests share a worker (the
    option as configured: a worker's own session is told --dist no)."""
    options = request.config.getini("addopts")
    assert ["--dist", "loadfile"] in (options[index:index + 2]
                                      for index in range(len(options)))


@pytest.mark.parametrize(("worker", "count"), [("gw0", "2"), ("gw1", "2"), ("gw2", "3")])
def test_a_worker_draws_only_ports_of_its_own(monkeypatch, worker, count):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", count)
    number, workers = worker_slot()
    assert (f"gw{number}", str(workers)) == (worker, count)
    for _ in range(20):
        port = free_port()
        assert port_owner(port, workers) == number
        with socket.socket() as server:  # and nothing listens there
            server.bind(("127.0.0.1", port))


def test_every_port_has_one_owner():
    for workers in (1, 2, 3, 8):
        owners = {port_owner(port, workers) for port in range(32768, 32768 + 4 * workers)}
        assert owners == set(range(workers))
        # And among the ports of either parity alone.
        assert {port_owner(port, workers)
                for port in range(32769, 32769 + 8 * workers, 2)} == set(range(workers))


def test_alone_the_suite_is_one_worker(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    assert (worker_name(), worker_slot()) == ("main", (0, 1))


def test_the_database_is_the_workers_own(database_url, tmp_path_factory):
    """A PostgreSQL database (and schema) named for the worker, not the one of
    TEST_DATABASE_URL, or a SQLite file in the worker's own temporary folder
    (pytest-xdist gives each worker one)."""
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        base = tmp_path_factory.getbasetemp()
        assert Path(url.database).is_relative_to(base)
        if worker_name() != "main":
            assert base.name.endswith(worker_name())  # popen-gw0, popen-gw1, ...
    else:
        name = url.database
        assert name.startswith(f"test_{worker_name()}_")
        assert name != sa.engine.make_url(os.environ["TEST_DATABASE_URL"]).database
        assert f"search_path%3D{name}" in database_url
