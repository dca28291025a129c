"""Schemathesis against /api/v1/openapi.json: no server error, no answer the document
does not describe.

Every operation of the document is one test, run in-process (WSGI) as a signed-in
coordinator (an admin for what only admins do) over a small region of real data:
families with members and plans, a group with sessions and an enrollment, visits
with their reminders, a feed and a matching proposal. Generated ids, municipality
names and worker lists are mixed with those of the data, so that the requests reach
past "not found" into the services. Each test starts from fresh data, so a DELETE
takes nothing from the next operation. The examples are bounded and derandomized:
CI runs the same requests every time.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app import create_app
from calendars import services as calendar_services
from calendars.conflicts import TravelPolicy
from config import TestConfig
from config import settings as config_settings
from core.clock import FixedClock
from extensions import db
from families import services as family_services
from groups import services as group_services
from matching import services as matching_services
from reminders.models import Reminder
from tests.conftest import NOW, bearer, make_family, make_group, make_user

HELSINKI = ZoneInfo("Europe/Helsinki")
CALENDAR = calendar_services.CalendarSettings(TravelPolicy(1.2, 15), "1-7 00:00-23:59", 15)
EXAMPLES = 15
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]

# The document does not depend on the database: it is read from an app of its own
# at collection, so that each operation becomes a test of its own.
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    create_app(config_settings(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://")))

# Ids and names of the data of the running test, by the name a parameter or a field
# has in the API; generated values are mixed with these.
REAL: dict[str, list] = {}

ALIASES = {
    "family": "family_id", "worker": "worker_id", "with_worker": "worker_id",
    "facilitator_ids": "worker_id", "family_worker_ids": "worker_id",
    "worker_ids": "worker_id", "responsible_social_worker_id": "social_worker_id",
    "member_ids": "member_id", "item_ids": "item_id", "owner_id": "owner_id",
    "municipalities": "municipality", "event_id": "visit_id",
}


def _real(name):
    return REAL.get(ALIASES.get(name, name))


def _mixed(values: dict):
    """A strategy that keeps each generated value or puts a real one in its place."""
    if not isinstance(values, dict):
        return st.just(values)
    parts = {}
    for name, value in values.items():
        real = _real(name)
        if not real:
            parts[name] = st.just(value)
        elif isinstance(value, list):
            parts[name] = st.sampled_from([value, real[:1], real[:2]])
        else:
            parts[name] = st.sampled_from([value, *real])
    return st.fixed_dictionaries(parts)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    return _mixed(path_parameters)


@schema.hook
def flatmap_query(context, query):
    return _mixed(query)


@schema.hook
def flatmap_body(context, body):
    return _mixed(body)


def _region():
    """The data of one test: a coordinator's region with some of everything."""
    coordinator = make_user("coordinator", municipalities=("Mikkeli", "Hirvensalmi"))
    admin = make_user("admin", municipalities=())
    workers = [make_user("family_worker"), make_user("family_worker")]
    social_worker = make_user("social_worker")
    # A guardian who takes e-mail reminders, so that the visits have some.
    guardian = {"role": "guardian", "first_name": "Mikko", "email": "mikko@example.test",
                "reminder_channel": "email", "locale": "fi"}
    families = [
        make_family(coordinator, workers=workers[:1], plan=True),
        make_family(coordinator, track="child_protection", social_worker=social_worker,
                    workers=workers, plan=True),
        make_family(coordinator, municipality="Hirvensalmi"),
    ]
    clock = FixedClock(NOW)
    for family in families[:2]:
        family_services.add_member(coordinator, family, dict(guardian), clock=clock)
    group = make_group(coordinator, facilitators=workers[:1])
    draft = make_group(coordinator, status="draft", name="Vauvaryhmä")
    enrollment = group_services.enroll(
        coordinator, group, families[0], [member.id for member in families[0].members],
        zone=HELSINKI, clock=clock)
    visits = []
    for day, family in ((2, families[0]), (3, families[1])):
        start = datetime(2026, 12, day, 10, 0, tzinfo=HELSINKI)
        visits.append(calendar_services.book_visit(
            coordinator, family, kind="home_visit", start=start,
            end=start + timedelta(hours=1),
            worker_ids=[worker.id for worker in family.family_workers], confirm=True,
            zone=HELSINKI, settings=CALENDAR, clock=clock))
    feed, _secret = calendar_services.create_feed(
        coordinator, owner_type="group", owner_id=group.id, detailed_allowed=True,
        clock=clock)
    db.session.flush()
    proposal = matching_services.propose(coordinator, now=NOW, zone=HELSINKI)
    db.session.commit()
    reminders = list(db.session.scalars(db.select(Reminder.id)))
    REAL.clear()
    REAL.update(
        family_id=[family.id for family in families],
        member_id=[member.id for member in families[0].members],
        worker_id=[worker.id for worker in workers],
        social_worker_id=[social_worker.id],
        group_id=[group.id, draft.id],
        session_id=[session.id for session in group.sessions[:2]],
        enrollment_id=[enrollment.id],
        visit_id=[visit.id for visit in visits],
        feed_id=[feed.id],
        owner_id=[group.id, workers[0].id, families[0].id],
        proposal_id=[proposal.id],
        item_id=[item.id for item in proposal.items],
        reminder_id=reminders[:2],
        municipality=["Mikkeli", "Hirvensalmi"],
    )
    return coordinator, admin


@pytest.fixture
def callers(app):
    coordinator, admin = _region()
    yield {"coordinator": bearer(coordinator), "admin": bearer(admin)}
    REAL.clear()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_its_document_says(case, app, client, callers):
    admin_only = case.operation.method.upper() == "PUT" and case.path == "/reminders/policy"
    headers = callers["admin" if admin_only else "coordinator"]
    case.call_and_validate(session=client, app=app, headers=headers, checks=CHECKS)
