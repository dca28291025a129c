"""Calendar feeds as four parsers this project did not write read them.

Each feed is fetched through its URL and read by ``icalendar`` with
``recurring-ical-events``, by ``vobject`` and by the strict ``ical`` package in
Python, and by Mozilla's ``ical.js`` under Node (``parse_ical.mjs``, installed
with ``npm ci`` here). For every event the database holds for the feed's owner
and window, each must read the UID, the summary, the location, the status, the
wall-clock start and end in Europe/Helsinki and the instants in UTC, which each
parser works out from the feed's own VTIMEZONE (its yearly rules). The events
sit on both sides of the changes to and from summer time in October 2026,
March 2027 and October 2027, and two of them span a change; another calendar
has events on both sides of every change over five years. Names with the
separators of iCalendar text, and names stored with line breaks and control
characters, are read back as they are (without the control characters).
"""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
import sqlalchemy as sa
import vobject
from flask_babel import force_locale
from flask_babel import gettext as _
from ical.calendar_stream import IcsCalendarStream
from ical.parsing.property import ParsedProperty
from ical.timezone import IcsTimezoneInfo
from ical.types.text import TextEncoder

from accounts.models import User
from calendars import services
from calendars.conflicts import TravelPolicy
from calendars.events import events_of
from calendars.feeds import tokens
from calendars.feeds.ical import summary_and_location
from calendars.feeds.window import FeedWindow
from calendars.models import HomeVisit
from core.clock import FixedClock, set_clock
from extensions import db
from families.models import Family
from groups import enrollment as group_enrollment
from groups import series as group_series
from groups import services as group_services
from groups.models import PeerGroup
from tests.conftest import NOW, make_family, make_group, make_user, require

HELSINKI = ZoneInfo("Europe/Helsinki")
SETTINGS = services.CalendarSettings(TravelPolicy(1.2, 15), "1-5 08:00-16:00", 15)
HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "parse_ical.mjs"
ICAL_JS = HERE / "node_modules" / "ical.js" / "package.json"
# Before the autumn change of 2026, when the groups were set up.
EARLIER = datetime(2026, 9, 28, 9, tzinfo=HELSINKI)
SUMMER, WINTER = 3 * 3600, 2 * 3600

# The changes to and from summer time in the feeds' window (NOW - 60 d ... NOW + 365 d):
# the last local day before each change, and the first after it.
CHANGES = {
    "autumn 2026": (date(2026, 10, 25), SUMMER, WINTER),
    "spring 2027": (date(2027, 3, 28), WINTER, SUMMER),
    "autumn 2027": (date(2027, 10, 31), SUMMER, WINTER),
}

# (owner, privacy, locale): every kind of feed, at both levels, in both languages.
FEEDS = [
    ("worker", "minimal", "fi"),
    ("worker", "detailed", "en"),
    ("group", "minimal", "fi"),
    ("group", "detailed", "en"),
    ("family", "minimal", "en"),
    ("family", "detailed", "fi"),
]
FEED_IDS = [f"{owner}-{privacy}-{locale}" for owner, privacy, locale in FEEDS]


def local(year, month, day, hour, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=HELSINKI)


# --- the calendars ---------------------------------------------------------

@dataclass
class Scene:
    coordinator: object
    worker: object
    family: object
    other: object
    group: object
    moved_visit: object
    cancelled_visit: object
    moved_session: object
    cancelled_session: object

    def owner(self, owner_type):
        return {"worker": self.worker, "group": self.group, "family": self.family}[owner_type]


def book(coordinator, family, worker, start, end=None, *, kind="home_visit", confirm=False):
    visit = services.book_visit(coordinator, family, kind=kind, start=start,
                                end=end or start + timedelta(hours=1),
                                worker_ids=[worker.id], confirm=confirm, zone=HELSINKI,
                                settings=SETTINGS, clock=FixedClock(EARLIER))
    db.session.commit()
    return visit


@pytest.fixture
def scene(app, monkeypatch):
    """A worker's visits with two families and a group they facilitate, around every
    change of the window; one visit and one session moved, one of each cancelled.
    Detailed feeds are allowed, so that both levels are served as made."""
    monkeypatch.setitem(app.config, "FEED_DETAILED_ALLOWED", True)
    coordinator = make_user("coordinator", municipalities=("Mikkeli", "Hirvensalmi"))
    worker = make_user("family_worker", locale="fi")
    social_worker = make_user("social_worker")
    family = make_family(coordinator, track="child_protection", social_worker=social_worker,
                         workers=[worker], plan=True, surname="Salonen")
    other = make_family(coordinator, workers=[worker], plan=True, surname="Toivonen",
                        municipality="Hirvensalmi")
    # Tuesdays at 17:00 from 13 October 2026 to the end of 2027.
    group = make_group(coordinator, facilitators=[worker], first_date=date(2026, 10, 13),
                       count=60, capacity=8, clock=FixedClock(EARLIER))
    for member_of in (family, other):
        group_enrollment.enroll(coordinator, group, member_of, [m.id for m in member_of.members],
                                zone=HELSINKI, clock=FixedClock(NOW))
    db.session.commit()

    for day in (local(2026, 10, 22, 10), local(2026, 10, 27, 10),     # autumn 2026
                local(2027, 3, 25, 10), local(2027, 3, 30, 10),       # spring 2027
                local(2027, 10, 28, 10), local(2027, 11, 2, 10)):     # autumn 2027
        book(coordinator, family, worker, day)
    book(coordinator, other, worker, local(2026, 10, 23, 13), kind="review_meeting")
    book(coordinator, other, worker, local(2027, 3, 31, 13))
    # Through the night of each change: the end is in the other offset.
    book(coordinator, family, worker, local(2027, 3, 27, 23), local(2027, 3, 28, 5),
         confirm=True)
    book(coordinator, other, worker, local(2027, 10, 30, 23), local(2027, 10, 31, 5),
         confirm=True)

    now = FixedClock(NOW)
    moved_visit = book(coordinator, family, worker, local(2027, 3, 24, 10))
    services.update_visit(coordinator, moved_visit, {"start": local(2027, 4, 1, 10)},
                          zone=HELSINKI, settings=SETTINGS, clock=now)
    cancelled_visit = book(coordinator, other, worker, local(2027, 10, 29, 10))
    services.update_visit(coordinator, cancelled_visit, {"status": "cancelled"},
                          zone=HELSINKI, settings=SETTINGS, clock=now)
    sessions = {s.start.astimezone(HELSINKI).date(): s for s in group.sessions}
    moved_session = group_series.change_session(
        coordinator, sessions[date(2027, 3, 16)], start=local(2027, 4, 1, 18), clock=now)
    cancelled_session = group_series.change_session(
        coordinator, sessions[date(2027, 11, 2)], status="cancelled", clock=now)
    db.session.commit()
    return Scene(coordinator, worker, family, other, group, moved_visit, cancelled_visit,
                 moved_session, cancelled_session)


def fetch(app, client, scene, owner_type, privacy, locale):
    """The feed's bytes from its URL, and the subscription."""
    owner = scene.owner(owner_type)
    actor = scene.worker if owner_type == "worker" else scene.coordinator
    set_clock(app, FixedClock(NOW))
    feed, secret = tokens.create_feed(actor, owner_type=owner_type, owner_id=owner.id,
                                      privacy=privacy, locale=locale,
                                      detailed_allowed=True, clock=FixedClock(NOW))
    db.session.commit()
    response = client.get(f"/calendars/feeds/{secret}.ics")
    assert response.status_code == 200
    return response.data, feed


# --- what the database says ------------------------------------------------

def window(app):
    return FeedWindow.around(NOW, HELSINKI, app.config)


def expected_events(app, feed) -> dict:
    """What a reader should find, from the event view and the summary rules."""
    span = window(app)
    expected = {}
    for event in events_of(feed.owner_type, feed.owner_id, span.start, span.end,
                           include_cancelled=span.cancelled_since):
        with force_locale(feed.locale):
            summary, location = summary_and_location(event, feed.owner_type, feed.privacy)
            if event.status == "cancelled":
                summary = _("Cancelled: %(summary)s", summary=summary)
        start, end = event.start.astimezone(HELSINKI), event.end.astimezone(HELSINKI)
        expected[event.uid] = {
            "summary": summary,
            "location": location,
            "status": "CANCELLED" if event.status == "cancelled" else "CONFIRMED",
            "sequence": event.sequence,
            "tzid": "Europe/Helsinki",
            "local_start": start.replace(tzinfo=None).isoformat(),
            "local_end": end.replace(tzinfo=None).isoformat(),
            "offset_start": int(start.utcoffset().total_seconds()),
            "offset_end": int(end.utcoffset().total_seconds()),
            "utc_start": event.start.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z",
            "utc_end": event.end.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z",
        }
    return expected


# --- what the parsers read -------------------------------------------------

def _through_feed_zone(decoded, zone, what) -> tuple[str, str, int]:
    """Wall clock, UTC and offset of a date-time a parser read, taken through the
    feed's own VTIMEZONE (``zone``). Parsers resolve a known TZID with the system's
    zone data (or a registry of their own); the two must agree."""
    assert isinstance(decoded, datetime) and decoded.tzinfo is not None, (what, decoded)
    wall = decoded.replace(tzinfo=None)
    instant = wall.replace(tzinfo=zone)
    assert instant.astimezone(UTC) == decoded.astimezone(UTC), (what, wall)
    return (wall.isoformat(), instant.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z",
            int(instant.utcoffset().total_seconds()))


def _note_event(read: dict, uid: str, *, start, end, **fields) -> None:
    """One event as a parser read it, with its start and end from _through_feed_zone."""
    assert uid not in read, f"{uid} twice"
    (local_start, utc_start, offset_start), (local_end, utc_end, offset_end) = start, end
    read[uid] = {**fields, "local_start": local_start, "local_end": local_end,
                 "offset_start": offset_start, "offset_end": offset_end,
                 "utc_start": utc_start, "utc_end": utc_end}


def read_with_icalendar(body: bytes, app) -> dict:
    calendar = icalendar.Calendar.from_ical(body)
    zones = {zone.tz_name: zone.to_tz(lookup_tzid=False) for zone in calendar.timezones}
    assert list(zones) == ["Europe/Helsinki"]
    span = window(app)
    # Everything in the feed, and what recurring-ical-events finds in the window.
    everything = calendar.walk("VEVENT")
    occurrences = recurring_ical_events.of(calendar).between(span.start, span.end)
    assert sorted(str(e["UID"]) for e in occurrences) == sorted(
        str(e["UID"]) for e in everything)
    read = {}
    for component in occurrences:
        tzid = str(component["DTSTART"].params["TZID"])
        assert str(component["DTEND"].params["TZID"]) == tzid
        _note_event(
            read, str(component["UID"]),
            start=_through_feed_zone(component.decoded("DTSTART"), zones[tzid], "DTSTART"),
            end=_through_feed_zone(component.decoded("DTEND"), zones[tzid], "DTEND"),
            summary=str(component["SUMMARY"]),
            location=str(component["LOCATION"]) if "LOCATION" in component else None,
            status=str(component["STATUS"]), sequence=int(component["SEQUENCE"]), tzid=tzid)
    return read


def read_with_vobject(body: bytes, app) -> dict:
    calendar = vobject.readOne(body.decode())
    [vtimezone] = calendar.contents["vtimezone"]
    assert vtimezone.tzid.value == "Europe/Helsinki"
    zone = vtimezone.gettzinfo()  # the feed's VTIMEZONE, through dateutil

    read = {}
    for event in calendar.contents.get("vevent", []):
        # vobject moves TZID to X-VOBJ-ORIGINAL-TZID.
        tzid = event.dtstart.params["X-VOBJ-ORIGINAL-TZID"][0]
        assert event.dtend.params["X-VOBJ-ORIGINAL-TZID"][0] == tzid
        _note_event(
            read, event.uid.value,
            start=_through_feed_zone(event.dtstart.value, zone, "DTSTART"),
            end=_through_feed_zone(event.dtend.value, zone, "DTEND"),
            summary=event.summary.value,
            location=event.location.value if "location" in event.contents else None,
            status=event.status.value, sequence=int(event.sequence.value), tzid=tzid)
    return read


def read_with_ical(body: bytes, app) -> dict:
    """The strict parser: a feed it finds invalid raises."""
    calendar = IcsCalendarStream.calendar_from_ics(body.decode())
    [timezone] = calendar.timezones
    assert timezone.tz_id == "Europe/Helsinki"
    zone = IcsTimezoneInfo.from_timezone(timezone)  # the feed's VTIMEZONE

    read = {}
    for event in calendar.events:
        _note_event(
            read, event.uid,
            start=_through_feed_zone(event.dtstart, zone, "DTSTART"),
            end=_through_feed_zone(event.dtend, zone, "DTEND"),
            summary=event.summary, location=event.location,
            status=event.status.value if event.status else None, sequence=event.sequence,
            tzid=str(event.dtstart.tzinfo))
    return read


def node_and_ical_js() -> str:
    node = shutil.which("node")
    if node is None:
        require("NODE", "node is not on the PATH: install Node.js to read feeds with ical.js")
    if not ICAL_JS.exists():
        require("NODE", "ical.js is not installed: run `npm ci` in tests/interop")
    return node


def parsed_by_ical_js(body: bytes, tmp_path) -> dict:
    node = node_and_ical_js()
    path = tmp_path / "feed.ics"
    path.write_bytes(body)
    done = subprocess.run([node, str(SCRIPT), str(path)], capture_output=True, text=True,
                          timeout=60, cwd=HERE, env={**os.environ, "TZ": "America/New_York"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def read_with_ical_js(body: bytes, tmp_path) -> dict:
    parsed = parsed_by_ical_js(body, tmp_path)
    assert parsed["timezones"] == ["Europe/Helsinki"]
    read = {}
    for event in parsed["events"]:
        start, end = event["start"], event["end"]
        assert end["tzid"] == start["tzid"]
        assert event["uid"] not in read, f"{event['uid']} twice"
        read[event["uid"]] = {
            "summary": event["summary"], "location": event["location"],
            "status": event["status"], "sequence": event["sequence"],
            "tzid": start["tzid"],
            "local_start": start["local"], "local_end": end["local"],
            "offset_start": start["offset_seconds"], "offset_end": end["offset_seconds"],
            "utc_start": start["utc"], "utc_end": end["utc"],
        }
    return read


READERS = {
    "icalendar": lambda body, app, tmp_path: read_with_icalendar(body, app),
    "ical.js": lambda body, app, tmp_path: read_with_ical_js(body, tmp_path),
    "vobject": lambda body, app, tmp_path: read_with_vobject(body, app),
    "ical": lambda body, app, tmp_path: read_with_ical(body, app),
}


# The calendar's name as each reads it. NAME (RFC 7986) and X-WR-CALNAME are TEXT;
# where a parser does not know them, its own TEXT decoding is applied, as a
# client that shows the name does.
def _names_by_icalendar(body, tmp_path):
    types = icalendar.Calendar.types_factory.types_map
    known = {key: types.get(key) for key in ("name", "x-wr-calname")}
    types.update(dict.fromkeys(known, "text"))
    try:
        calendar = icalendar.Calendar.from_ical(body)
    finally:
        for key, value in known.items():
            if value is None:
                types.pop(key, None)
            else:
                types[key] = value
    return {key: str(calendar[key]) for key in ("NAME", "X-WR-CALNAME")}


def _names_by_vobject(body, tmp_path):
    calendar = vobject.readOne(body.decode())
    return {key: calendar.contents[key.lower()][0].value for key in ("NAME", "X-WR-CALNAME")}


def _names_by_ical(body, tmp_path):
    calendar = IcsCalendarStream.calendar_from_ics(body.decode())
    [x_wr_calname] = [extra for extra in calendar.extras if extra.name == "x-wr-calname"]
    return {"NAME": calendar.name[0], "X-WR-CALNAME": TextEncoder.__parse_property_value__(
        ParsedProperty(name=x_wr_calname.name, value=x_wr_calname.value))}


NAME_READERS = {
    "icalendar": _names_by_icalendar,
    "ical.js": lambda body, tmp_path: parsed_by_ical_js(body, tmp_path)["names"],
    "vobject": _names_by_vobject,
    "ical": _names_by_ical,
}


# --- the tests -------------------------------------------------------------

def differences(read: dict, expected: dict) -> dict:
    """Per UID, each field read otherwise than expected: (read, expected)."""
    return {uid: {key: (read[uid].get(key), value) for key, value in event.items()
                  if read[uid].get(key) != value}
            for uid, event in expected.items() if read.get(uid) != event}


def assert_both_sides_of_every_change(read: dict):
    for name, (day, before, after) in CHANGES.items():
        days = {(date.fromisoformat(e["local_start"][:10]), e["offset_start"])
                for e in read.values()}
        assert any(day - timedelta(days=7) <= d < day and o == before for d, o in days), name
        assert any(day < d <= day + timedelta(days=7) and o == after for d, o in days), name
    assert {e["offset_start"] for e in read.values()} == {SUMMER, WINTER}


INSTANT_KEYS = {"offset_start", "offset_end", "utc_start", "utc_end"}


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize(("owner_type", "privacy", "locale"), FEEDS, ids=FEED_IDS)
def test_a_parser_reads_every_event_as_the_database_has_it(app, client, scene, tmp_path,
                                                          reader, owner_type, privacy,
                                                          locale):
    if reader == "ical.js":
        node_and_ical_js()
    body, feed = fetch(app, client, scene, owner_type, privacy, locale)
    expected = expected_events(app, feed)
    assert_scene_is_in_it(scene, owner_type, expected)
    assert_both_sides_of_every_change(expected)
    read = READERS[reader](body, app, tmp_path)

    assert set(read) == set(expected)
    wrong = differences(read, expected)
    assert {uid: fields for uid, fields in wrong.items()
            if set(fields) - INSTANT_KEYS} == {}
    assert wrong == {}
    assert_both_sides_of_every_change(read)


@pytest.mark.parametrize(("owner_type", "privacy", "locale"), FEEDS, ids=FEED_IDS)
def test_every_parser_reads_the_same(app, client, scene, tmp_path, owner_type, privacy,
                                     locale):
    node_and_ical_js()
    body, _feed = fetch(app, client, scene, owner_type, privacy, locale)
    by_icalendar = read_with_icalendar(body, app)
    for reader in ("ical.js", "vobject", "ical"):
        assert READERS[reader](body, app, tmp_path) == by_icalendar, reader


def assert_scene_is_in_it(scene, owner_type, expected):
    """The events the scene set up are in the database's answer, not only its own rules."""
    sessions = {f"session-{s.id}@perhetyo" for s in (scene.moved_session,
                                                      scene.cancelled_session)}
    assert sessions <= set(expected)
    assert expected[f"session-{scene.moved_session.id}@perhetyo"]["local_start"] \
        == "2027-04-01T18:00:00"
    assert expected[f"session-{scene.cancelled_session.id}@perhetyo"]["status"] == "CANCELLED"
    visits = {f"visit-{scene.moved_visit.id}@perhetyo",
              f"visit-{scene.cancelled_visit.id}@perhetyo"}
    if owner_type == "worker":
        assert visits <= set(expected)
        moved = expected[f"visit-{scene.moved_visit.id}@perhetyo"]
        assert moved["sequence"] == 1 and moved["local_start"] == "2027-04-01T10:00:00"
        assert expected[f"visit-{scene.cancelled_visit.id}@perhetyo"]["status"] == "CANCELLED"
        through = [e for e in expected.values() if e["offset_start"] != e["offset_end"]]
        assert len(through) == 2
    elif owner_type == "group":
        assert not any(uid.startswith("visit-") for uid in expected)


def test_finnish_feeds_speak_finnish(app, client, scene, tmp_path):
    """The labels come from the catalogue, not the English source text."""
    body, _feed = fetch(app, client, scene, "worker", "minimal", "fi")
    summaries = [e["summary"] for e in read_with_icalendar(body, app).values()]
    assert any(s.startswith(f"Kotikäynti {scene.family.reference}, Mikkeli")
               for s in summaries)
    assert any(s.startswith(f"Tapaaminen {scene.other.reference}, Hirvensalmi")
               for s in summaries)


def test_a_cancelled_event_is_marked_in_the_feeds_language(app, client, scene):
    body, _feed = fetch(app, client, scene, "worker", "minimal", "fi")
    read = read_with_icalendar(body, app)
    cancelled = read[f"visit-{scene.cancelled_visit.id}@perhetyo"]["summary"]
    assert cancelled.startswith("Peruttu: "), cancelled


# --- names: the separators of TEXT, and what only the database let in ------------

def subscribed(app, client, actor, owner_type, owner_id, privacy="minimal", locale="en"):
    """The feed's bytes, fetched through its URL."""
    set_clock(app, FixedClock(NOW))
    _feed, secret = tokens.create_feed(actor, owner_type=owner_type, owner_id=owner_id,
                                       privacy=privacy, locale=locale,
                                       detailed_allowed=True, clock=FixedClock(NOW))
    db.session.commit()
    response = client.get(f"/calendars/feeds/{secret}.ics")
    assert response.status_code == 200, response.status_code
    return response.data


@pytest.fixture
def small_scene(app, monkeypatch):
    """A coordinator, a worker facilitating a group, and one visit to a family."""
    monkeypatch.setitem(app.config, "FEED_DETAILED_ALLOWED", True)
    coordinator = make_user("coordinator")
    worker = make_user("family_worker")
    family = make_family(coordinator, workers=[worker], plan=True, surname="Salonen")
    group = make_group(coordinator, facilitators=[worker], count=3)
    visit = book(coordinator, family, worker, local(2026, 12, 2, 10))
    return coordinator, worker, family, group, visit


@pytest.mark.parametrize("reader", list(READERS))
def test_a_name_with_the_separators_of_text_is_read_back_exactly(app, client, small_scene,
                                                                 tmp_path, reader):
    if reader == "ical.js":
        node_and_ical_js()
    coordinator, worker, _family, group, _visit = small_scene
    name = "Vauvat; isät, äidit \\ muut"
    group_services.update_group(coordinator, group, {"public_title": name}, zone=HELSINKI,
                                clock=FixedClock(NOW))
    db.session.commit()
    body = subscribed(app, client, coordinator, "group", group.id)
    assert NAME_READERS[reader](body, tmp_path) == {"NAME": name, "X-WR-CALNAME": name}
    read = READERS[reader](body, app, tmp_path)
    assert len(read) == 3 and {event["summary"] for event in read.values()} == {name}


# What the forms and the API now refuse, stored before they did (or by hand): line
# breaks are kept (escaped), the other control characters left out.
STORED = "Vauvat\r\nisät\x0b\x1b\x7f äidit\x85\tja muut"
SHOWN = "Vauvat\nisät äidit\tja muut"
# A group's public title, the only name of it that leaves, goes on one line.
TITLE_SHOWN = "Vauvat isät äidit ja muut"


def store_directly(model, row_id, **values):
    """A change no form or API would let through, past the ORM's checks."""
    db.session.execute(sa.update(model).where(model.id == row_id).values(**values))
    db.session.commit()
    db.session.expire_all()


@pytest.mark.parametrize("reader", list(READERS))
def test_control_characters_stored_in_names_still_serve_every_feed(app, client, small_scene,
                                                                   tmp_path, reader):
    if reader == "ical.js":
        node_and_ical_js()
    coordinator, worker, family, group, visit = small_scene
    store_directly(PeerGroup, group.id, public_title=STORED)
    store_directly(User, worker.id, name=STORED)
    store_directly(Family, family.id, surname=STORED)
    store_directly(HomeVisit, visit.id, place=STORED)

    group_feed = subscribed(app, client, coordinator, "group", group.id)
    assert NAME_READERS[reader](group_feed, tmp_path) == {"NAME": TITLE_SHOWN,
                                                          "X-WR-CALNAME": TITLE_SHOWN}
    sessions = READERS[reader](group_feed, app, tmp_path)
    assert len(sessions) == 3 and {e["summary"] for e in sessions.values()} == {TITLE_SHOWN}

    worker_feed = subscribed(app, client, worker, "worker", worker.id, privacy="detailed")
    names = NAME_READERS[reader](worker_feed, tmp_path)
    assert names == {"NAME": f"Family work: {SHOWN}", "X-WR-CALNAME": f"Family work: {SHOWN}"}
    read = READERS[reader](worker_feed, app, tmp_path)
    home_visit = read[f"visit-{visit.id}@perhetyo"]
    assert home_visit["summary"] == f"Home visit {family.reference} {SHOWN}, Mikkeli"
    assert home_visit["location"] == f"{SHOWN}, Mikkeli"
    assert {e["summary"] for uid, e in read.items()
            if uid.startswith("session-")} == {TITLE_SHOWN}


# --- the time zone over several years --------------------------------------------

YEARS = range(2027, 2032)


def last_sunday(year, month):
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


@pytest.mark.parametrize("reader", list(READERS))
def test_every_parser_reads_the_instants_around_every_change_for_five_years(
        app, client, small_scene, tmp_path, monkeypatch, reader):
    """Visits the Friday before and the Monday after each change of 2027-2031, and
    through the night of each change, in a feed whose window spans five years:
    each parser, reading the zone's yearly rules, gives each its instant."""
    if reader == "ical.js":
        node_and_ical_js()
    monkeypatch.setitem(app.config, "FEED_WINDOW_FUTURE_DAYS", 6 * 365)
    coordinator, worker, family, _group, _visit = small_scene
    booked = []
    for year in YEARS:
        for month, before, after in ((3, WINTER, SUMMER), (10, SUMMER, WINTER)):
            sunday = last_sunday(year, month)
            friday, monday = sunday - timedelta(days=2), sunday + timedelta(days=1)
            # Confirmed: some of these days are public holidays (Good Friday).
            booked.append((book(coordinator, family, worker, local(
                friday.year, friday.month, friday.day, 10), confirm=True), before, before))
            booked.append((book(coordinator, family, worker, local(
                monday.year, monday.month, monday.day, 10), confirm=True), after, after))
            saturday = sunday - timedelta(days=1)
            booked.append((book(coordinator, family, worker, local(
                saturday.year, saturday.month, saturday.day, 23), local(
                sunday.year, sunday.month, sunday.day, 5), confirm=True), before, after))
    body = subscribed(app, client, worker, "worker", worker.id)
    read = READERS[reader](body, app, tmp_path)
    for visit, offset_start, offset_end in booked:
        event = read[f"visit-{visit.id}@perhetyo"]
        start, end = visit.start.astimezone(UTC), visit.end.astimezone(UTC)
        assert (event["utc_start"], event["utc_end"]) == (
            start.replace(tzinfo=None).isoformat() + "Z",
            end.replace(tzinfo=None).isoformat() + "Z"), event
        assert (event["offset_start"], event["offset_end"]) == (offset_start, offset_end)
        assert event["local_start"] == visit.start.astimezone(HELSINKI).replace(
            tzinfo=None).isoformat()
    assert len(booked) == len(YEARS) * 6
    assert body.count(b"RRULE:FREQ=YEARLY") == 2
