"""One invariant for every feed after any sequence of changes.

Random sequences of changes go through the services that touch what a feed
shows (visits and their series, sessions, groups, enrollments, families,
staff, venues, municipalities) while days pass and processes restart. After
every step each feed (a worker's, a group's and a family's, minimal and
detailed) is fetched through the whole WSGI app, the layer before Flask
included, with and without the validators its client holds, and:

- its body is what a fresh build from the database gives (`made_feed`, with
  no kept answer and no serialised event);
- its ETag changes exactly when its body does, and its Last-Modified advances
  whenever its body changes and never goes back;
- a request with the client's last validators (both, the ETag alone, weak or
  not, the date alone) answers 304 exactly when the body is the same (by date:
  when the date is too);
- an event (by UID) whose content changed since the feed last showed it has a
  higher SEQUENCE and a later DTSTAMP and LAST-MODIFIED.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest
import sqlalchemy as sa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from accounts import services as accounts_services
from accounts.models import User
from calendars import services
from calendars.feeds import ical, serving, tokens
from calendars.feeds.content import made_feed
from calendars.models import HomeVisit
from core import places
from core.clock import FixedClock, set_clock
from core.errors import DomainError
from core.models import Municipality, Venue
from core.recurrence import SeriesRule
from extensions import db
from families import services as family_services
from families.models import Family
from groups import enrollment as group_enrollment
from groups import series as group_series
from groups import services as group_services
from groups.models import Enrollment, GroupSession, PeerGroup
from tests.calendars.test_feeds import SETTINGS
from tests.conftest import HELSINKI, NOW, empty_tables, make_family, make_group, make_user

# Small windows and a low limit, so that days passing move events in and out.
CONFIG = {"FEED_WINDOW_PAST_DAYS": 3, "FEED_WINDOW_FUTURE_DAYS": 14,
          "FEED_CANCELLED_RETENTION_DAYS": 2, "FEED_MAX_EVENTS": 7,
          "FEED_DETAILED_ALLOWED": True}
# (owner type, which owner, privacy)
FEEDS = (("worker", 0, "detailed"), ("worker", 1, "minimal"), ("group", 0, "minimal"),
         ("family", 0, "detailed"), ("family", 1, "minimal"))
STEP = timedelta(minutes=1)  # between two changes, so that a new date can be later
PICK = st.integers(0, 7)
GROUP_NAMES = ("Taaperoryhmä", "Vauvaryhmä", "Isäryhmä")
SURNAMES = ("Salonen", "Toivonen", "Korhonen")
WORKER_NAMES = ("Aino Aaltonen", "Eero Eskola")
# The validators a client sends back: both (If-None-Match wins), the ETag as a
# browser sends it, as a client behind nginx's gzip does, in a list, the date alone.
CONDITIONS = ({"If-None-Match": '"{etag}"', "If-Modified-Since": "{date}"},
              {"If-None-Match": '"{etag}"'}, {"If-None-Match": 'W/"{etag}"'},
              {"If-None-Match": '"other", W/"{etag}"'}, {"If-Modified-Since": "{date}"})
# Lines that say which version of an event this is, not what it is.
VERSION_LINES = ("DTSTAMP", "LAST-MODIFIED", "SEQUENCE")


@dataclass
class Version:
    """What a feed showed of one event."""

    content: tuple
    sequence: int
    dtstamp: str
    last_modified: str


@dataclass
class Seen:
    """What a feed's client holds: the last answer, and every event it was shown."""

    etag: str
    last_modified: datetime
    body: bytes
    events: dict = field(default_factory=dict)


def versions_in(body: bytes) -> dict[str, Version]:
    """Each VEVENT by UID: its lines but the version's, and the version's."""
    text = body.replace(b"\r\n ", b"").decode()
    found = {}
    for block in re.findall(r"BEGIN:VEVENT\r\n(.*?)END:VEVENT", text, re.S):
        lines = [line for line in block.split("\r\n") if line]
        values = {line.split(":", 1)[0].split(";", 1)[0]: line.split(":", 1)[1]
                  for line in lines}
        found[values["UID"]] = Version(
            tuple(sorted(line for line in lines
                         if line.split(":", 1)[0].split(";", 1)[0] not in VERSION_LINES)),
            int(values["SEQUENCE"]), values["DTSTAMP"], values["LAST-MODIFIED"])
    return found


def pick(items, index):
    return items[index % len(items)] if items else None


def next_of(names, current):
    """The name after the current one, so that a rename always renames."""
    return names[(names.index(current) + 1) % len(names)] if current in names else names[0]


class FeedMachine(RuleBasedStateMachine):
    """Changes through the services, days passing, restarts; every feed checked."""

    app = None
    client = None

    def __init__(self):
        super().__init__()
        empty_tables()
        serving.feed_cache.clear()
        self.clock = FixedClock(NOW)
        set_clock(self.app, self.clock)
        self.mikkeli = db.session.scalar(sa.select(Municipality).filter_by(name="Mikkeli"))
        self.mikkeli_id = self.mikkeli.id
        clock = self.clock
        self.coordinator = make_user("coordinator", municipalities=("Mikkeli", "Hirvensalmi"),
                                     clock=clock).id
        self.admin = make_user("admin", municipalities=(), clock=clock).id
        self.workers = [make_user("family_worker", municipalities=("Mikkeli", "Hirvensalmi"),
                                  clock=clock).id for _ in range(2)]
        coordinator = db.session.get(User, self.coordinator)
        self.venues = [places.create_venue(name=name, municipality=municipality).id
                       for name, municipality in (("Perhekeskus", "Mikkeli"),
                                                  ("Olkkari", "Hirvensalmi"))]
        self.families = [make_family(coordinator, plan=True, clock=clock, surname=surname,
                                     workers=[db.session.get(User, worker)]).id
                         for surname, worker in zip(("Salonen", "Toivonen"), self.workers,
                                                    strict=True)]
        self.groups = [make_group(coordinator, count=count, name=name, clock=clock,
                                  facilitators=[db.session.get(User, worker)]).id
                       for name, count, worker in (("Taaperoryhmä", 4, self.workers[0]),
                                                   ("Vauvaryhmä", 3, self.workers[1]))]
        db.session.get(PeerGroup, self.groups[0]).venue = db.session.get(Venue,
                                                                           self.venues[0])
        # A visit for each family, and a family in a group, from the start.
        for days, family, worker in ((1, self.families[0], self.workers[0]),
                                     (2, self.families[1], self.workers[1])):
            start = datetime.combine(self.local_day(days), time(10), HELSINKI)
            services.book_visit(coordinator, db.session.get(Family, family),
                                kind="home_visit", start=start, end=start + timedelta(hours=1),
                                worker_ids=[worker], zone=HELSINKI, settings=SETTINGS,
                                clock=clock)
        first = db.session.get(Family, self.families[0])
        group_enrollment.enroll(coordinator, db.session.get(PeerGroup, self.groups[0]), first,
                                [member.id for member in first.members], zone=HELSINKI,
                                clock=clock)
        self.paths = []
        for owner_type, which, privacy in FEEDS:
            owner_id = {"worker": self.workers, "group": self.groups,
                        "family": self.families}[owner_type][which]
            actor = db.session.get(User, owner_id) if owner_type == "worker" else coordinator
            _, secret = tokens.create_feed(actor, owner_type=owner_type, owner_id=owner_id,
                                           privacy=privacy, locale="en",
                                           detailed_allowed=True, clock=clock)
            self.paths.append((f"{serving.PREFIX}/{secret}{serving.SUFFIX}", secret))
        db.session.commit()
        self.seen: dict[str, Seen] = {}
        self.steps = 0

    def teardown(self):
        db.session.rollback()
        db.session.get(Municipality, self.mikkeli_id).name = "Mikkeli"
        db.session.commit()

    # --- doing ---------------------------------------------------------------

    def attempt(self, change, *args, **kwargs) -> None:
        """A change at a new minute, committed; one the rules refuse leaves nothing."""
        self.clock.instant += STEP
        try:
            change(*args, **kwargs)
        except DomainError:
            db.session.rollback()
        else:
            db.session.commit()

    def actor(self) -> User:
        return db.session.get(User, self.coordinator)

    def visits(self) -> list[HomeVisit]:
        return list(db.session.scalars(sa.select(HomeVisit).order_by(HomeVisit.id)))

    def sessions(self, group_index) -> list[GroupSession]:
        group_id = pick(self.groups, group_index)
        return list(db.session.scalars(sa.select(GroupSession).where(
            GroupSession.group_id == group_id).order_by(GroupSession.start)))

    def local_day(self, days: int):
        return (self.clock.now().astimezone(HELSINKI) + timedelta(days=days)).date()

    # --- visits --------------------------------------------------------------

    @rule(family=PICK, worker=PICK, days=st.integers(-2, 20), hour=st.integers(8, 14),
          kind=st.sampled_from(["home_visit", "review_meeting"]), series=st.booleans())
    def book_visit(self, family, worker, days, hour, kind, series):
        family = db.session.get(Family, pick(self.families, family))
        workers = [pick(self.workers, worker)]
        start = datetime.combine(self.local_day(days), time(hour), HELSINKI)
        if series:
            self.attempt(services.book_series, self.actor(), family, kind=kind,
                         rule=SeriesRule(weekday=start.isoweekday(), start_time=start.time(),
                                         duration_minutes=45, first_date=start.date(),
                                         count=3),
                         worker_ids=workers, confirm=True, zone=HELSINKI, settings=SETTINGS,
                         clock=self.clock)
        else:
            self.attempt(services.book_visit, self.actor(), family, kind=kind, start=start,
                         end=start + timedelta(hours=1), worker_ids=workers, confirm=True,
                         zone=HELSINKI, settings=SETTINGS, clock=self.clock)

    @rule(index=PICK, change=st.sampled_from(
        ["move", "kind", "cancel", "restore", "workers", "place", "municipality", "done",
         "notes", "delete"]), days=st.integers(-3, 6))
    def change_visit(self, index, change, days):
        visit = pick(self.visits(), index)
        if visit is None:
            return
        if change == "delete":
            self.attempt(services.delete_visit, self.actor(), visit, clock=self.clock)
            return
        changes = {
            "move": {"start": visit.start + timedelta(days=days)},
            "kind": {"kind": "review_meeting" if visit.kind == "home_visit"
                     else "home_visit"},
            "cancel": {"status": "cancelled"},
            "restore": {"status": "scheduled"},
            "workers": {"worker_ids": [pick(self.workers, days)]},
            "place": {"place": f"Kauppakatu {days % 5 + 1}"},
            "municipality": {"municipality": pick(["Hirvensalmi", self.mikkeli_name()],
                                                  days)},
            "done": {"status": "done"},
            "notes": {"notes": f"muistiinpano {days}"},
        }[change]
        self.attempt(services.update_visit, self.actor(), visit, changes, confirm=True,
                     zone=HELSINKI, settings=SETTINGS, clock=self.clock)

    # --- groups, sessions and places in them -------------------------------------

    @rule(group=PICK, index=PICK, change=st.sampled_from(
        ["move", "cancel", "restore", "venue", "group venue"]), days=st.integers(-2, 3))
    def change_session(self, group, index, change, days):
        session = pick(self.sessions(group), index)
        if session is None:
            return
        changes = {
            "move": {"start": session.start + timedelta(days=days, hours=1)},
            "cancel": {"status": "cancelled"},
            "restore": {"status": "scheduled"},
            "venue": {"venue": db.session.get(Venue, pick(self.venues, days)).name},
            "group venue": {"venue": ""},
        }[change]
        self.attempt(group_series.change_session, self.actor(), session,
                     clock=self.clock, **changes)

    def change_group(self, group_index, changes) -> None:
        self.attempt(group_services.update_group, self.actor(),
                     db.session.get(PeerGroup, pick(self.groups, group_index)), changes,
                     zone=HELSINKI, clock=self.clock)

    @rule(group=PICK)
    def rename_group(self, group):
        name = db.session.get(PeerGroup, pick(self.groups, group)).name
        self.change_group(group, {"name": next_of(GROUP_NAMES, name)})

    @rule(group=PICK, venue=st.sampled_from([0, 1, None]))
    def move_group(self, group, venue):
        self.change_group(group, {"venue": None if venue is None else db.session.get(
            Venue, self.venues[venue]).name})

    @rule(group=PICK, change=st.sampled_from(
        ["facilitators", "series", "draft", "open", "description"]), which=PICK)
    def change_group_otherwise(self, group, change, which):
        first = self.local_day(which % 4)
        self.change_group(group, {
            "facilitators": {"facilitator_ids": [pick(self.workers, which)]},
            "series": {"series": group_series.SeriesPlan(group_series.series_rule(
                weekday=first.isoweekday(), start_time=time(17 + which % 2),
                duration_minutes=90, first_date=first, count=3))},
            "draft": {"status": "draft"},
            "open": {"status": "open"},
            "description": {"description": f"Kuvaus {which}"},
        }[change])

    @rule(family=PICK, group=PICK)
    def enroll_or_withdraw(self, family, group):
        family = db.session.get(Family, pick(self.families, family))
        group = db.session.get(PeerGroup, pick(self.groups, group))
        place = db.session.scalar(sa.select(Enrollment).where(
            Enrollment.family_id == family.id, Enrollment.group_id == group.id,
            Enrollment.status.in_(("enrolled", "waitlisted"))))
        if place is None:
            self.attempt(group_enrollment.enroll, self.actor(), group, family,
                         [member.id for member in family.members], zone=HELSINKI,
                         clock=self.clock)
        else:
            self.attempt(group_enrollment.withdraw, self.actor(), place, clock=self.clock)

    # --- families, staff, venues, municipalities ----------------------------------

    @rule(family=PICK)
    def rename_family(self, family):
        family = db.session.get(Family, pick(self.families, family))
        self.attempt(family_services.update_family, self.actor(), family,
                     {"surname": next_of(SURNAMES, family.surname)}, clock=self.clock)

    @rule(worker=PICK)
    def rename_worker(self, worker):
        user = db.session.get(User, pick(self.workers, worker))
        self.attempt(accounts_services.update_user, db.session.get(User, self.admin), user,
                     name=next_of(WORKER_NAMES, user.name), role=user.role,
                     municipalities=[place.name for place in user.municipalities],
                     locale=user.locale, active=True, clock=self.clock)

    @rule(venue=PICK, change=st.sampled_from(["rename", "move"]))
    def change_venue(self, venue, change):
        venue = db.session.get(Venue, pick(self.venues, venue))
        if change == "rename":
            name = venue.name + "n" if len(venue.name) < 20 else venue.name[:8]
            municipality = venue.municipality.name
        else:
            name = venue.name
            municipality = ("Hirvensalmi" if venue.municipality_id == self.mikkeli_id
                            else self.mikkeli_name())
        self.attempt(places.update_venue, venue, name=name, municipality=municipality)

    @rule()
    def rename_municipality(self):
        mikkeli = db.session.get(Municipality, self.mikkeli_id)
        self.attempt(places.update_municipality, mikkeli,
                     name=next_of(("Mikkeli", "Mikkelin kaupunki"), mikkeli.name),
                     latitude=mikkeli.latitude, longitude=mikkeli.longitude)

    def mikkeli_name(self) -> str:
        return db.session.get(Municipality, self.mikkeli_id).name

    # --- time and processes ------------------------------------------------------

    @rule(days=st.integers(0, 4), hours=st.integers(0, 23))
    def time_passes(self, days, hours):
        self.clock.instant += timedelta(days=days, hours=hours) + STEP

    @rule()
    def restart(self):
        """Another process, or this one after a restart: no answer kept."""
        serving.feed_cache.clear()
        ical._cache.clear()

    # --- the invariant -----------------------------------------------------------

    @invariant()
    def every_feed_is_current_and_its_validators_follow_its_body(self):
        self.steps += 1
        for offset, (path, secret) in enumerate(self.paths):
            self.check(path, secret, CONDITIONS[(self.steps + offset) % len(CONDITIONS)])

    def fetch(self, path, **headers):
        return self.client.get(path, headers=headers)

    def check(self, path: str, secret: str, sent: dict) -> None:
        seen = self.seen.get(path)
        if seen is not None:
            # The client's validators (each kind in turn), first: while what the
            # process keeps may be stale, this is the request that reaches the view.
            date = format_datetime(seen.last_modified, usegmt=True)
            conditional = self.fetch(path, **{
                name: value.format(etag=seen.etag, date=date) for name, value in sent.items()})
        response = self.fetch(path)
        assert response.status_code == 200
        ical._cache.clear()
        fresh = made_feed(tokens.feed_by_secret(db.engine, secret), self.clock.now())
        assert response.data == fresh.body, path
        etag = response.headers["ETag"].strip('"')
        last_modified = parsedate_to_datetime(response.headers["Last-Modified"])
        events = versions_in(response.data)
        if seen is not None:
            changed = response.data != seen.body
            assert (etag != seen.etag) == changed
            assert last_modified > seen.last_modified if changed \
                else last_modified >= seen.last_modified
            current = (last_modified == seen.last_modified if "If-None-Match" not in sent
                       else not changed)
            assert conditional.status_code == (304 if current else 200), sent
            if not current:
                assert conditional.data == response.data
            for uid, now in events.items():
                before = seen.events.get(uid)
                if before is None:
                    continue
                assert now.sequence >= before.sequence
                assert now.last_modified >= before.last_modified
                if now.content != before.content:
                    assert now.sequence > before.sequence, (uid, before, now)
                    assert now.last_modified > before.last_modified, (uid, before, now)
                    assert now.dtstamp > before.dtstamp, (uid, before, now)
        shown = {**(seen.events if seen else {}), **events}
        self.seen[path] = Seen(etag, last_modified, response.data, shown)


@pytest.fixture
def feed_settings(app, monkeypatch):
    for name, value in CONFIG.items():
        monkeypatch.setitem(app.config, name, value)


def test_every_feed_follows_every_change(app, client, feed_settings):
    FeedMachine.app, FeedMachine.client = app, client
    run_state_machine_as_test(FeedMachine, settings=settings(
        max_examples=15, stateful_step_count=10, derandomize=True, deadline=None,
        database=None))
