"""No feed gives away what stays in the system, checked on the whole demo.

Every worker's, group's and family's feed is made at both privacy levels
from the demo data (`seed-demo`), fetched through its URL and read with
``icalendar``. None may carry a visit's notes, a plan's content or who it
was agreed with, a family's track, or a child's first name; a family's or a
group's feed names no other family; a minimal feed gives no family's surname
or street address at all.

Names are searched for as whole words in the text values of the calendar and
its events (SUMMARY, LOCATION, DESCRIPTION and the like) after taking out what
may legitimately be there (group, venue, municipality and staff names, the
labels, and what the privacy level allows of the event's own family), so a
child called Onni or Toivo is not confused with a group or a word of a label.

Seeding takes seconds, so the tests of this module share one seeded database,
as tests/test_demo.py does: the tables are kept between its tests and emptied
when the module is done.
"""

import re
from contextlib import contextmanager
from datetime import datetime

import icalendar
import pytest
from flask_babel import force_locale
from flask_babel import gettext as _

from accounts.models import User
from calendars.feeds import tokens
from calendars.models import HomeVisit, visit_workers
from core.clock import FixedClock, set_clock
from core.models import Municipality, Venue
from core.roles import ADMIN, FAMILY_WORKER
from core.vocabulary import TRACKS
from extensions import db
from families.models import Family, Member, Plan
from groups.models import PeerGroup, group_facilitators
from tests.conftest import empty_tables

NOW = "2026-11-30T10:00:00+02:00"
INSTANT = datetime.fromisoformat(NOW)
LOCALES = ("fi", "en")
LABELS = ("Home visit", "Planning meeting", "Review meeting", "Family work")
# Text properties a calendar or an event might carry.
TEXT_PROPERTIES = ("NAME", "X-WR-CALNAME", "X-WR-CALDESC", "DESCRIPTION", "SUMMARY",
                   "LOCATION", "COMMENT", "CATEGORIES", "CONTACT", "ATTENDEE", "ORGANIZER",
                   "RESOURCES", "URL")

_demo = {}


@pytest.fixture(scope="module")
def _tables_of_the_module(_app):
    yield
    _demo.clear()
    with _app.app_context():
        empty_tables()


@pytest.fixture
def app(_app, _tables_of_the_module):
    """The suite's app at the demo's "now", keeping the tables between tests."""
    set_clock(_app, FixedClock(INSTANT))
    return _app


@pytest.fixture
def demo(app, runner):
    """What the seeded demo holds that feeds must or may show, gathered once."""
    if "secrets" not in _demo:
        empty_tables()
        result = runner.invoke(args=["seed-demo", "--now", NOW])
        assert result.exit_code == 0, result.output
        _demo["secrets"] = gather()
    set_clock(app, FixedClock(INSTANT))
    return _demo["secrets"]


def gather() -> dict:
    families = list(db.session.scalars(db.select(Family).order_by(Family.id)))
    notes = [n.strip() for n in db.session.scalars(db.select(HomeVisit.notes)) if n.strip()]
    plans = list(db.session.scalars(db.select(Plan)))
    plan_texts = [line.strip() for plan in plans for line in plan.content.splitlines()
                  if line.strip()]
    agreed = [plan.agreed_with.strip() for plan in plans if plan.agreed_with.strip()]
    # "Äiti ja isä, sosiaalityöntekijä Laine": each part is looked for as words.
    agreed_parts = {part.strip() for text in agreed for part in text.split(",")
                    if part.strip()}
    tracks = set(TRACKS) | {"lastensuojelu", "ennaltaehkäis", "child protection",
                            "child-protection"}
    for locale in LOCALES:
        with force_locale(locale):
            tracks |= {str(label) for label in TRACKS.values()}
    labels = set()
    for locale in LOCALES:
        with force_locale(locale):
            labels |= {_(label) for label in LABELS}
            labels.add(_("Cancelled: %(summary)s", summary="").strip())
            labels.add(_("Peer group"))
    staff = list(db.session.scalars(db.select(User.name)))
    workers = set(db.session.scalars(db.select(User.id).where(User.role == FAMILY_WORKER)))
    workers |= set(db.session.scalars(db.select(visit_workers.c.user_id)))
    workers |= set(db.session.scalars(db.select(group_facilitators.c.user_id)))
    children = sorted(set(db.session.scalars(
        db.select(Member.first_name).where(Member.role == "child"))))
    assert notes and plan_texts and agreed and len(children) > 20
    return {
        "families": {f.id: {"reference": f.reference, "surname": f.surname,
                            "address": f.address} for f in families},
        "notes": notes, "plans": plan_texts, "agreed": sorted(set(agreed)),
        "agreed_parts": sorted(agreed_parts),
        "tracks": sorted(tracks), "children": children,
        # What any event or calendar may name.
        "common": sorted(labels | set(staff)
                         | set(db.session.scalars(db.select(PeerGroup.name)))
                         | set(db.session.scalars(db.select(Venue.name)))
                         | set(db.session.scalars(db.select(Municipality.name))),
                         key=len, reverse=True),
        "owners": {
            "worker": sorted(workers),
            "group": list(db.session.scalars(db.select(PeerGroup.id).order_by(PeerGroup.id))),
            "family": [f.id for f in families],
        },
        "admin": db.session.scalar(db.select(User).where(User.role == ADMIN)).id,
    }


@contextmanager
def detailed_allowed(app, allowed: bool):
    before = app.config["FEED_DETAILED_ALLOWED"]
    app.config["FEED_DETAILED_ALLOWED"] = allowed
    try:
        yield
    finally:
        app.config["FEED_DETAILED_ALLOWED"] = before


def fetch(app, client, demo, owner_type, owner_id, privacy, locale) -> bytes:
    admin = db.session.get(User, demo["admin"])
    with detailed_allowed(app, privacy == "detailed"):
        _feed, secret = tokens.create_feed(
            admin, owner_type=owner_type, owner_id=owner_id, privacy=privacy, locale=locale,
            detailed_allowed=app.config["FEED_DETAILED_ALLOWED"], clock=FixedClock(INSTANT))
        db.session.commit()
        response = client.get(f"/calendars/feeds/{secret}.ics")
    assert response.status_code == 200
    return response.data


# --- reading a feed --------------------------------------------------------

def texts(body: bytes) -> list[tuple[str | None, str]]:
    """(UID or None for the calendar, text) for every text value outside the VTIMEZONE."""
    calendar = icalendar.Calendar.from_ical(body)
    found = []
    for component in [calendar, *calendar.walk("VEVENT")]:
        uid = str(component["UID"]) if component.name == "VEVENT" else None
        for name in TEXT_PROPERTIES:
            values = component.get(name)
            if values is None:
                continue
            for value in values if isinstance(values, list) else [values]:
                found.append((uid, value.to_ical().decode() if hasattr(value, "cats")
                              else str(value)))
    return found


WORD = re.compile(r"[\w-]+")


class Words:
    """The words of a text, for finding names as whole words (any case)."""

    def __init__(self, text: str):
        self.text = text
        self.words = {word.lower() for word in WORD.findall(text)}

    def __contains__(self, name: str) -> bool:
        if WORD.fullmatch(name):
            return name.lower() in self.words
        return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", self.text,
                         re.IGNORECASE) is not None


def allowed_of(uid: str | None, demo, privacy: str) -> list[str]:
    """What an event may name besides the common names: its own family's reference,
    and at the detailed level its surname and the visit's place."""
    if uid is None or not uid.startswith("visit-"):
        return []
    visit = db.session.get(HomeVisit, int(uid.split("-")[1].split("@")[0]))
    family = demo["families"][visit.family_id]
    allowed = [family["reference"]]
    if privacy == "detailed":
        allowed += [family["surname"], visit.place]
    return [text for text in allowed if text]


def remainder(text: str, allowed: list[str]) -> str:
    for name in sorted(allowed, key=len, reverse=True):
        text = re.sub(re.escape(name), " ", text, flags=re.IGNORECASE)
    return text


def street_of(address: str) -> str:
    return re.split(r"\s+\d", address, maxsplit=1)[0].strip()


def leaks(body: bytes, demo, owner_type: str, owner_id: int, privacy: str) -> list[str]:
    """Every forbidden item the feed carries, described."""
    found = []
    raw = body.decode().replace("\r\n ", "").replace("\\,", ",").replace("\\;", ";") \
        .replace("\\n", "\n").replace("\\N", "\n")
    others = [family for family_id, family in demo["families"].items()
              if owner_type != "family" or family_id != owner_id]
    for item in demo["notes"] + demo["plans"] + demo["agreed"]:
        if item in raw:
            found.append(f"note or plan text {item!r}")
    for uid, text in texts(body):
        where = uid or "the calendar"
        for item in demo["notes"] + demo["plans"] + demo["agreed"]:
            if item in text:
                found.append(f"{where}: note or plan text {item!r}")
        for word in demo["tracks"]:
            if word.lower() in text.lower():
                found.append(f"{where}: track {word!r} in {text!r}")
        words = Words(text)
        rest = Words(remainder(text, demo["common"] + allowed_of(uid, demo, privacy)))
        for part in demo["agreed_parts"]:
            if part in rest:
                found.append(f"{where}: who a plan was agreed with {part!r} in {text!r}")
        for name in demo["children"]:
            if name in rest:
                found.append(f"{where}: child's name {name!r} in {text!r}")
        if owner_type in ("family", "group"):
            for family in others:
                if family["reference"] in words:
                    found.append(f"{where}: another family's reference {family['reference']}")
                if family["surname"] in rest:
                    found.append(f"{where}: another family's surname {family['surname']}")
        if privacy == "minimal":
            for family in demo["families"].values():
                if family["surname"] in rest:
                    found.append(f"{where}: surname {family['surname']!r} in {text!r}")
                street = family["address"] and street_of(family["address"])
                if street and (family["address"] in text or street in rest):
                    found.append(f"{where}: address {family['address']!r} in {text!r}")
    return found


# --- the tests -------------------------------------------------------------

@pytest.mark.parametrize("owner_type", ["worker", "group", "family"])
def test_no_feed_of_the_demo_carries_anything_forbidden(app, client, demo, owner_type):
    owners = demo["owners"][owner_type]
    assert owners
    found, events = {}, 0
    for index, owner_id in enumerate(owners):
        # Both levels for every owner; both languages at each level across owners.
        locales = LOCALES if index % 2 == 0 else LOCALES[::-1]
        for privacy, locale in zip(("minimal", "detailed"), locales, strict=True):
            body = fetch(app, client, demo, owner_type, owner_id, privacy, locale)
            events += body.count(b"BEGIN:VEVENT")
            leaked = leaks(body, demo, owner_type, owner_id, privacy)
            if leaked:
                found[(owner_id, privacy, locale)] = leaked
    assert found == {}
    assert events > 0


def test_the_check_finds_what_it_looks_for(app, demo):
    """The search itself: each kind of forbidden item is found when it is there."""
    family_id, family = next(iter(demo["families"].items()))
    other_id, other = list(demo["families"].items())[1]
    child = demo["children"][0]

    def feed(summary, location=None):
        calendar = icalendar.Calendar()
        calendar.add("prodid", "-//test//")
        calendar.add("version", "2.0")
        event = icalendar.Event()
        event.add("uid", "session-0@perhetyo")
        event.add("summary", summary)
        if location:
            event.add("location", location)
        calendar.add_component(event)
        return calendar.to_ical()

    assert leaks(feed("Taaperoarki", "Mikkeli"), demo, "group", 1, "minimal") == []
    for body, owner in (
            (feed(f"Taaperoarki {demo['notes'][0]}"), ("group", 1, "minimal")),
            (feed("Arjen voimaa", demo["plans"][0]), ("group", 1, "detailed")),
            (feed(f"Ryhmä ({demo['agreed'][0]})"), ("group", 1, "detailed")),
            (feed(f"Ryhmä, {demo['agreed_parts'][0]}"), ("group", 1, "detailed")),
            (feed("Lastensuojelun perhetyö"), ("group", 1, "detailed")),
            (feed(f"Kerho, {child}"), ("group", 1, "detailed")),
            (feed(f"Kotikäynti {other['reference']}"), ("family", family_id, "detailed")),
            (feed(f"Kotikäynti {other['surname']}"), ("family", family_id, "detailed")),
            (feed("Kotikäynti", family["address"]), ("worker", 1, "minimal")),
            (feed(f"Kotikäynti {family['surname']}"), ("worker", 1, "minimal"))):
        assert leaks(body, demo, *owner), (body, owner)
    assert other_id != family_id
