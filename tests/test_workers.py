"""A parallel run's workers share nothing: tests that share a fixture stay on one
worker, and each worker has its own database, ports and temporary folders."""

import socket
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import SHARED_SCOPES
from tests.workers import free_port, port_owner, worker_name, worker_slot


def _group(item) -> str | None:
    mark = item.get_closest_marker("xdist_group")
    return mark.args[0] if mark else None


def _shares_a_fixture(item) -> bool:
    definitions = item._fixtureinfo.name2fixturedefs
    return any(definitions[name][-1].scope in SHARED_SCOPES
               for name in item.fixturenames if name in definitions)


def test_every_test_sharing_a_fixture_runs_on_the_worker_of_the_others(request):
    """Every collected test with a fixture of module, class or package scope has a
    group, one for all such tests of its module; every browser test is in the
    browser's group."""
    groups: dict[Path, set] = {}
    for item in request.session.items:
        if "browser" in item.fixturenames:
            assert _group(item) == "browser", item.nodeid
        if _shares_a_fixture(item):
            assert _group(item) is not None, f"{item.nodeid} shares a fixture but has no group"
            groups.setdefault(item.path, set()).add(_group(item))
    for path, names in groups.items():
        assert len(names) == 1, f"{path}: its shared fixtures would be built on {names}"


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
    """A PostgreSQL schema named for the worker, or a SQLite file in the worker's
    own temporary folder (pytest-xdist gives each worker one)."""
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        base = tmp_path_factory.getbasetemp()
        assert Path(url.database).is_relative_to(base)
        if worker_name() != "main":
            assert base.name.endswith(worker_name())  # popen-gw0, popen-gw1, ...
    else:
        assert f"search_path%3Dtest_{worker_name()}_" in database_url
