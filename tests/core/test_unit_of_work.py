"""One unit of work per request: one commit, in core.unit_of_work, when the answer
is below 400; a rollback otherwise; a failing commit answers as an error."""

import ast
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Blueprint, Response, redirect, stream_with_context

from accounts.models import User
from app import create_app
from config import TestConfig, settings
from core import audit, unit_of_work
from core.errors import Conflict
from core.models import AuditEvent, Municipality, Venue
from extensions import db
from families.models import Member
from tests.conftest import NOW, csrf_token_from, login, make_family

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRECTORIES = {"tests", "migrations", "benchmarks", "instance", "node_modules"}


# --- who may commit -----------------------------------------------------------

def _may_commit(relative: Path) -> bool:
    """The unit of work, and the units of work of their own: CLI commands (the
    seed-demo command among them), the scheduler's jobs and the dispatcher."""
    parts = relative.parts
    return (relative == Path("core/unit_of_work.py")
            or relative.name in ("cli.py", "jobs.py")
            or parts[:2] == ("reminders", "dispatcher")
            or parts[0] in ("demo.py", "demo"))


def _application_modules():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in SKIPPED_DIRECTORIES or relative.parts[0].startswith("."):
            continue
        yield relative, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_only_the_unit_of_work_commands_jobs_and_the_dispatcher_commit_or_roll_back():
    offenders, seen = [], 0
    for relative, tree in _application_modules():
        seen += 1
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("commit", "rollback")
                    and not _may_commit(relative)):
                offenders.append(f"{relative}:{node.lineno} .{node.func.attr}()")
    assert seen > 50
    assert offenders == []


def _returns_request_address(function: ast.FunctionDef) -> bool:
    """A helper whose whole job is ``return request.remote_addr``."""
    last = function.body[-1]
    return (len(function.body) <= 2 and isinstance(last, ast.Return)
            and isinstance(last.value, ast.Attribute) and last.value.attr == "remote_addr"
            and isinstance(last.value.value, ast.Name) and last.value.value.id == "request")


def test_no_module_passes_the_request_address_that_the_audit_log_takes_itself():
    offenders = []
    for relative, tree in _application_modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and _returns_request_address(node):
                offenders.append(f"{relative}:{node.lineno} def {node.name}")
            if isinstance(node, ast.Call) and any(
                    keyword.arg == "origin" for keyword in node.keywords):
                offenders.append(f"{relative}:{node.lineno} origin=")
            if isinstance(node, ast.Name) and node.id == "render_and_commit":
                offenders.append(f"{relative}:{node.lineno} render_and_commit")
    assert offenders == []


# --- what a request keeps ---------------------------------------------------

PREFIX = "/unit-of-work-test"
# The answers a route that writes gives, by the status asked for.
RESPONSES = {
    200: lambda: Response("done", 200),
    201: lambda: Response("made", 201),
    302: lambda: redirect("/"),
    303: lambda: redirect("/", 303),
    400: lambda: Response("refused", 400),
    404: lambda: Response("not found", 404),
    409: lambda: Response("conflict", 409),
    422: lambda: Response("invalid", 422),
    500: lambda: Response("failed", 500),
}


def _add_venue(name: str) -> None:
    municipality = db.session.scalar(sa.select(Municipality).order_by(Municipality.id))
    db.session.add(Venue(name=name, municipality_id=municipality.id))


def _blueprint() -> Blueprint:
    bp = Blueprint("unit_of_work_test", __name__, url_prefix=PREFIX)

    @bp.post("/answer/<int:status>/<name>")
    def answer(status, name):
        _add_venue(name)
        db.session.flush()
        return RESPONSES[status]()

    @bp.post("/refuse/<name>")
    def refuse(name):
        _add_venue(name)
        db.session.flush()
        raise Conflict("taken")

    @bp.post("/fail/<name>")
    def fail(name):
        _add_venue(name)
        db.session.flush()
        raise RuntimeError("a bug")

    @bp.post("/keep/<name>")
    def keep(name):
        _add_venue(name)
        unit_of_work.keep_regardless()
        return Response("refused, and the refusal kept", 422)

    @bp.get("/read/<name>")
    def read(name):
        audit.record(None, "venue.read", "venue", None, at=NOW, detail={"name": name})
        return Response("read", 200)

    @bp.post("/duplicate/<name>")
    def duplicate(name):
        _add_venue(name)  # not flushed: the unique violation comes at the commit
        return Response("done", 200)

    @bp.post("/commit-fails/<name>")
    def commit_fails(name):
        _add_venue(name)
        db.session.flush()

        def refuse_commit(_session):
            raise RuntimeError("the database went away")

        sa.event.listen(db.session(), "before_commit", refuse_commit, once=True)
        return Response("done", 200)

    @bp.get("/stream/<name>")
    def stream(name):
        _add_venue(name)
        db.session.flush()

        def body():
            # Read on a connection of its own: the row is there before the body.
            with db.engine.connect() as connection:
                yield str(_venue_count(connection, name))

        return Response(stream_with_context(body()), mimetype="text/plain")

    return bp


@pytest.fixture(scope="module")
def uow_app(_app, database_url):
    """An app of its own (on the suite's database, which ``_app`` makes), with routes
    that write and answer as asked."""
    app = create_app(settings(TestConfig, SQLALCHEMY_DATABASE_URI=database_url,
                              WTF_CSRF_ENABLED=False, PROPAGATE_EXCEPTIONS=False))
    app.register_blueprint(_blueprint())
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client_of(uow_app):
    yield uow_app.test_client()
    with uow_app.app_context(), db.engine.begin() as connection:
        connection.execute(sa.delete(Venue).where(Venue.name.like("uow-%")))
        connection.execute(sa.delete(AuditEvent).where(AuditEvent.action == "venue.read"))


def _venue_count(connection, name: str) -> int:
    return connection.scalar(sa.select(sa.func.count()).select_from(Venue).where(
        Venue.name == name))


def _stored(app, name: str) -> int:
    """How many venues of that name another connection sees."""
    with app.app_context(), db.engine.connect() as connection:
        return _venue_count(connection, name)


@pytest.mark.parametrize("status", sorted(RESPONSES))
def test_a_request_keeps_its_writes_exactly_when_its_answer_is_below_400(
        uow_app, client_of, status):
    name = f"uow-answer-{status}"
    response = client_of.post(f"{PREFIX}/answer/{status}/{name}")
    assert response.status_code == status
    assert _stored(uow_app, name) == (1 if status < 400 else 0)


@pytest.mark.parametrize("route, status", [("refuse", 409), ("fail", 500)])
def test_an_error_raised_after_a_flush_leaves_nothing(uow_app, client_of, route, status):
    name = f"uow-{route}"
    response = client_of.post(f"{PREFIX}/{route}/{name}")
    assert response.status_code == status
    assert _stored(uow_app, name) == 0


def test_writes_marked_to_be_kept_survive_an_error_answer(uow_app, client_of):
    response = client_of.post(f"{PREFIX}/keep/uow-keep")
    assert response.status_code == 422
    assert _stored(uow_app, "uow-keep") == 1


def test_a_get_that_audits_a_read_commits_the_event(uow_app, client_of):
    response = client_of.get(f"{PREFIX}/read/uow-read")
    assert response.status_code == 200
    with uow_app.app_context(), db.engine.connect() as connection:
        details = connection.scalars(sa.select(AuditEvent.detail).where(
            AuditEvent.action == "venue.read")).all()
    assert details == [{"name": "uow-read"}]


def test_a_unique_violation_at_the_commit_answers_409_not_200(uow_app, client_of):
    assert client_of.post(f"{PREFIX}/answer/200/uow-taken").status_code == 200
    response = client_of.post(f"{PREFIX}/duplicate/uow-taken")
    assert response.status_code == 409
    assert _stored(uow_app, "uow-taken") == 1


def test_a_failing_commit_answers_500_not_200_and_keeps_nothing(uow_app, client_of):
    response = client_of.post(f"{PREFIX}/commit-fails/uow-lost")
    assert response.status_code == 500
    assert b"done" not in response.data
    assert _stored(uow_app, "uow-lost") == 0


def test_a_failing_commit_on_the_api_answers_the_json_error(uow_app, client_of):
    # An API path's error is the API's error shape, whatever failed.
    with uow_app.test_request_context("/api/v1/anything"):
        answer = unit_of_work._failed_commit(RuntimeError("gone"))
    assert answer.status_code == 500
    assert answer.get_json()["error"]["code"] == "server_error"


def test_a_streamed_answer_is_committed_before_its_body(uow_app, client_of):
    response = client_of.get(f"{PREFIX}/stream/uow-stream")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "1"


# --- the real pages and API ---------------------------------------------------

def test_a_family_page_read_is_audited_and_committed(app, client, coordinator):
    family = make_family(coordinator)
    login(client, coordinator)
    assert client.get(f"/families/{family.id}").status_code == 200
    with db.engine.connect() as connection:
        actions = connection.scalars(sa.select(AuditEvent.action).where(
            AuditEvent.target_id == family.id).order_by(AuditEvent.id)).all()
    assert actions[0] == "family.create"
    assert "family.read" in actions[1:]



def _family_reads(family_id: int) -> int:
    with db.engine.connect() as connection:
        return connection.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "family.read", AuditEvent.target_id == family_id))


def test_a_refusing_page_keeps_the_audit_of_its_read_and_nothing_of_the_change(
        app, client, coordinator):
    family = make_family(coordinator, members=[])
    login(client, coordinator)
    url = f"/families/{family.id}/members/new"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    reads = _family_reads(family.id)
    response = client.post(url, data={
        "role": "child", "first_name": "Eeli", "birth_date": "2024-02-31",
        "reminder_channel": "none", "locale": "fi", "csrf_token": token})
    assert response.status_code == 422
    assert "Eeli" in response.get_data(as_text=True)  # the page shows the family
    assert _family_reads(family.id) == reads + 1
    with db.engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(Member).where(
            Member.family_id == family.id)) == 0


def test_a_failed_sign_in_is_counted_although_the_answer_refuses(app, client, coordinator):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": coordinator.email,
                                           "password": "not the password",
                                           "csrf_token": token})
    assert response.status_code == 422
    with db.engine.connect() as connection:
        failures = connection.scalar(sa.select(User.failed_sign_ins).where(
            User.id == coordinator.id))
    assert failures == 1
