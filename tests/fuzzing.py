"""What the fuzz tests share: a small region with some of everything, and its ids."""

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from accounts import services as accounts_services
from accounts.models import ApiToken, User
from app import create_app
from calendars import services as calendar_services
from calendars import working_time
from calendars.conflicts import TravelPolicy
from calendars.feeds import tokens as feed_tokens
from config import TestConfig, settings
from core.clock import FixedClock
from core.models import BlackoutDate, Municipality, Venue
from extensions import db
from families import services as family_services
from groups import enrollment as group_enrollment
from matching import services as matching_services
from reminders import dispatcher
from reminders.models import Reminder
from tests.conftest import NOW, empty_tables, make_family, make_group, make_user

HELSINKI = ZoneInfo("Europe/Helsinki")
CALENDAR = calendar_services.CalendarSettings(TravelPolicy(1.2, 15), "1-7 00:00-23:59", 15)


@dataclass
class Region:
    """The signed-in users of a fuzz test and the ids of what they may work on."""

    coordinator: User
    admin: User
    ids: dict[str, list] = field(default_factory=dict)


def make_region() -> Region:
    """Families with members and plans, a group with sessions and an enrollment,
    visits with their reminders, a feed, an absence, a matching proposal, a venue and
    a blackout."""
    clock = FixedClock(NOW)
    coordinator = make_user("coordinator", municipalities=("Mikkeli", "Hirvensalmi"))
    admin = make_user("admin", municipalities=())
    workers = [make_user("family_worker"), make_user("family_worker")]
    social_worker = make_user("social_worker")
    families = [
        make_family(coordinator, workers=workers[:1], plan=True),
        make_family(coordinator, track="child_protection", social_worker=social_worker,
                    workers=workers, plan=True),
        make_family(coordinator, municipality="Hirvensalmi"),
    ]
    # A guardian who takes e-mail reminders, so that the visits have some.
    for family in families[:2]:
        family_services.add_member(coordinator, family, {
            "role": "guardian", "first_name": "Mikko", "email": "mikko@example.test",
            "reminder_channel": "email", "locale": "fi"}, clock=clock)
    mikkeli = db.session.scalar(db.select(Municipality).filter_by(name="Mikkeli"))
    venue = Venue(name="Perhekeskus", municipality=mikkeli, address="Raatihuoneenkatu 8")
    blackout = BlackoutDate(day=date(2026, 12, 28), reason="Koulutuspäivä")
    db.session.add_all([venue, blackout])
    group = make_group(coordinator, facilitators=workers[:1])
    draft = make_group(coordinator, status="draft", name="Vauvaryhmä")
    enrollment = group_enrollment.enroll(
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
    feed, _secret = feed_tokens.create_feed(
        coordinator, owner_type="group", owner_id=group.id, detailed_allowed=True,
        clock=clock)
    absence, _booked = working_time.add_absence(
        coordinator, workers[0], kind="leave", start=datetime(2026, 12, 21, tzinfo=HELSINKI),
        end=datetime(2026, 12, 24, tzinfo=HELSINKI), confirm=True)
    db.session.flush()
    proposal = matching_services.propose(coordinator, now=NOW, zone=HELSINKI)
    accounts_services.issue_api_token(coordinator, clock=clock)
    db.session.commit()
    # One message claimed by the dispatcher, for a live opt-out link.
    secrets = dispatcher.claim(datetime(2026, 12, 3, 12, tzinfo=HELSINKI), "fuzz", 1)
    reminders = list(db.session.scalars(db.select(Reminder.id).order_by(Reminder.id)))
    ids = {
        "family_id": [family.id for family in families],
        "member_id": [member.id for member in families[0].members],
        "worker_id": [worker.id for worker in workers],
        "social_worker_id": [social_worker.id],
        "user_id": [workers[1].id, social_worker.id],
        "group_id": [group.id, draft.id],
        "session_id": [session.id for session in group.sessions[:2]],
        "enrollment_id": [enrollment.id],
        "visit_id": [visit.id for visit in visits],
        "feed_id": [feed.id],
        "absence_id": [absence.id],
        "owner_id": [group.id, workers[0].id, families[0].id],
        "proposal_id": [proposal.id],
        "item_id": [item.id for item in proposal.items],
        "reminder_id": reminders[:2],
        "municipality": ["Mikkeli", "Hirvensalmi"],
        "municipality_id": [mikkeli.id],
        "venue_id": [venue.id],
        "blackout_id": [blackout.id],
        "secret": list(secrets.values()),
        "token_id": list(db.session.scalars(db.select(ApiToken.id).filter_by(
            user_id=coordinator.id))),
    }
    return Region(coordinator=coordinator, admin=admin, ids=ids)


@cache
def collection_app():
    """An app for reading what does not depend on the data (routes, the OpenAPI
    document) while tests are collected, before any fixture exists."""
    return create_app(settings(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://"))


@contextmanager
def reference_data_kept():
    """Put the municipalities back as they were: the admin forms rename and remove
    them, and the suite keeps them from test to test."""
    table = Municipality.__table__
    with db.engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(sa.select(table))]
    try:
        yield
    finally:
        empty_tables()
        with db.engine.begin() as connection:
            connection.execute(table.delete())
            connection.execute(table.insert(), rows)
