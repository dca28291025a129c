"""Feed stamps: every change a feed shows reaches it at once, and an unchanged
feed is answered from one indexed read."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa

from calendars import services
from calendars.feeds import serving
from calendars.models import FeedStamp
from core import places
from core.clock import FixedClock, set_clock
from core.models import Municipality, Venue
from extensions import db
from families import services as family_services
from groups import enrollment as group_enrollment
from groups import series as group_series
from groups import services as group_services
from groups.models import GroupSession, PeerGroup
from tests.calendars.test_feeds import SETTINGS, book, events_in, subscribe
from tests.conftest import NOW, bearer, make_family, make_group, make_user

HELSINKI = ZoneInfo("Europe/Helsinki")


@pytest.fixture
def family(coordinator, worker):
    return make_family(coordinator, workers=[worker], surname="Salonen", plan=True)


@pytest.fixture
def detailed(app, monkeypatch):
    monkeypatch.setitem(app.config, "FEED_DETAILED_ALLOWED", True)


@pytest.fixture
def statements(app):
    """The SQL statements sent while the test runs."""
    sent = []

    def note(_connection, _cursor, statement, *_args):
        sent.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", note)
    yield sent
    sa.event.remove(engine, "before_cursor_execute", note)


def summaries(client, path) -> list[str]:
    return sorted(str(event["SUMMARY"]) for event in events_in(client.get(path).data))


def enroll(coordinator, group, family):
    enrollment = group_enrollment.enroll(coordinator, group, family,
                                         [member.id for member in family.members],
                                         zone=HELSINKI, clock=FixedClock(NOW))
    db.session.commit()
    return enrollment


def test_an_unchanged_feed_costs_one_read(client, coordinator, worker, family, statements):
    book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
    _, path = subscribe(client, worker, "worker", worker.id)
    first = client.get(path)
    statements.clear()

    again = client.get(path)
    not_modified = client.get(path, headers={"If-None-Match": first.headers["ETag"]})

    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    assert not_modified.status_code == 304
    assert len(statements) == 2, statements  # the token with its stamps, once each
    assert all("feed_stamps" in statement for statement in statements)


def test_a_booked_visit_reaches_the_feed_at_once(client, coordinator, worker, family):
    _, path = subscribe(client, worker, "worker", worker.id)
    assert summaries(client, path) == []
    book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
    assert len(summaries(client, path)) == 1


def test_a_visit_given_to_another_worker_moves_between_their_feeds(client, coordinator,
                                                                    worker, family):
    other = make_user("family_worker")
    visit = book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
    _, mine = subscribe(client, worker, "worker", worker.id)
    _, theirs = subscribe(client, other, "worker", other.id)
    assert (len(summaries(client, mine)), len(summaries(client, theirs))) == (1, 0)

    visit.workers = [other]
    db.session.commit()

    assert (len(summaries(client, mine)), len(summaries(client, theirs))) == (0, 1)


def test_a_retitled_group_reaches_its_facilitators_members_and_own_feed(
        client, coordinator, worker, family):
    group = make_group(coordinator, facilitators=[worker], count=2)
    enroll(coordinator, group, family)
    paths = [subscribe(client, worker, "worker", worker.id)[1],
             subscribe(client, coordinator, "group", group.id)[1],
             subscribe(client, coordinator, "family", family.id)[1]]
    before = [client.get(path).headers["ETag"] for path in paths]

    group_services.update_group(coordinator, group, {"public_title": "Vauvaryhmä"}, zone=HELSINKI,
                                clock=FixedClock(NOW))
    db.session.commit()

    for path, etag in zip(paths, before, strict=True):
        response = client.get(path, headers={"If-None-Match": etag})
        assert response.status_code == 200
        assert {str(event["SUMMARY"]) for event in events_in(response.data)} \
            == {"Vauvaryhmä"}


def test_a_facilitator_taken_off_a_group_loses_its_sessions(client, coordinator, worker):
    group = make_group(coordinator, facilitators=[worker], count=2)
    _, path = subscribe(client, worker, "worker", worker.id)
    assert len(summaries(client, path)) == 2

    group.facilitators = []
    db.session.commit()

    assert summaries(client, path) == []


def test_a_family_that_leaves_a_group_loses_its_sessions(client, coordinator, family):
    group = make_group(coordinator, count=2)
    enrollment = enroll(coordinator, group, family)
    _, path = subscribe(client, coordinator, "family", family.id)
    assert len(summaries(client, path)) == 2

    group_enrollment.withdraw(coordinator, enrollment, clock=FixedClock(NOW))
    db.session.commit()

    assert summaries(client, path) == []


def test_a_new_surname_reaches_the_detailed_feeds_of_the_familys_workers(
        client, coordinator, worker, family, detailed):
    book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
    _, path = subscribe(client, worker, "worker", worker.id, privacy="detailed")
    assert "Salonen" in summaries(client, path)[0]

    family.surname = "Korhonen"
    db.session.commit()

    assert "Korhonen" in summaries(client, path)[0]


def test_a_renamed_venue_or_municipality_reaches_every_feed(client, coordinator, worker,
                                                            family):
    venue = places.create_venue(name="Perhekeskus", municipality="Mikkeli")
    group = make_group(coordinator, facilitators=[worker], count=1)
    group.venue = venue
    book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
    db.session.commit()
    _, path = subscribe(client, worker, "worker", worker.id)
    locations = {str(event.get("LOCATION")) for event in events_in(client.get(path).data)}
    assert locations == {"Perhekeskus, Mikkeli", "Mikkeli"}

    places.update_venue(venue, name="Olkkari", municipality="Mikkeli")
    mikkeli = db.session.scalar(sa.select(Municipality).filter_by(name="Mikkeli"))
    places.update_municipality(mikkeli, name="Mikkelin kaupunki",
                               latitude=mikkeli.latitude, longitude=mikkeli.longitude)
    db.session.commit()
    try:
        locations = {str(event.get("LOCATION"))
                     for event in events_in(client.get(path).data)}
    finally:  # the municipalities outlive the test
        mikkeli.name = "Mikkeli"
        db.session.commit()
    assert locations == {"Olkkari, Mikkelin kaupunki", "Mikkelin kaupunki"}


def test_a_renamed_worker_gets_a_feed_of_their_new_name(client, worker):
    _, path = subscribe(client, worker, "worker", worker.id)
    client.get(path)
    worker.name = "Aino Aaltonen"
    db.session.commit()
    calendar = icalendar.Calendar.from_ical(client.get(path).data)
    assert "Aino Aaltonen" in str(calendar["X-WR-CALNAME"])


def test_what_no_feed_shows_leaves_the_feeds_as_they_were(client, coordinator, worker,
                                                          family):
    book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
    _, path = subscribe(client, worker, "worker", worker.id)
    etag = client.get(path).headers["ETag"]
    versions = db.session.scalars(sa.select(FeedStamp.version).order_by(
        FeedStamp.owner_type)).all()

    family.referral_source = "family_itself"
    worker.phone = "+358 40 765 4321"
    db.session.commit()

    assert db.session.scalars(sa.select(FeedStamp.version).order_by(
        FeedStamp.owner_type)).all() == versions
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304


def test_a_cancelled_event_leaves_at_the_end_of_its_retention(app, client, coordinator,
                                                              worker, family):
    visit = book(coordinator, family, worker, datetime(2026, 12, 18, 10, tzinfo=HELSINKI))
    _, path = subscribe(client, worker, "worker", worker.id)
    services.update_visit(coordinator, visit, {"status": "cancelled"}, zone=HELSINKI,
                          settings=SETTINGS, clock=FixedClock(NOW))
    db.session.commit()
    leaves = NOW + timedelta(days=app.config["FEED_CANCELLED_RETENTION_DAYS"])

    set_clock(app, FixedClock(leaves - timedelta(minutes=1)))
    assert len(summaries(client, path)) == 1
    set_clock(app, FixedClock(leaves + timedelta(minutes=1)))
    assert summaries(client, path) == []


def test_the_window_moves_on_at_midnight(app, client, coordinator, worker, family,
                                         monkeypatch):
    monkeypatch.setitem(app.config, "FEED_WINDOW_FUTURE_DAYS", 2)
    book(coordinator, family, worker, datetime(2026, 12, 3, 10, tzinfo=HELSINKI))
    _, path = subscribe(client, worker, "worker", worker.id)
    set_clock(app, FixedClock(datetime(2026, 11, 30, 23, 59, tzinfo=HELSINKI)))
    assert summaries(client, path) == []
    set_clock(app, FixedClock(datetime(2026, 12, 1, 0, 1, tzinfo=HELSINKI)))
    assert len(summaries(client, path)) == 1


def test_a_feed_without_a_stamp_is_answered_from_its_events(client, coordinator, worker,
                                                            family):
    _, path = subscribe(client, worker, "worker", worker.id)
    client.get(path)
    db.session.execute(sa.delete(FeedStamp))
    book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
    assert len(summaries(client, path)) == 1


# --- an event's text changed by what it shows of other records --------------

LATER = NOW + timedelta(hours=1)


def events_by_uid(client, path) -> dict:
    return {str(event["UID"]): event for event in events_in(client.get(path).data)}


def text_of(event) -> tuple:
    return str(event["SUMMARY"]), str(event.get("LOCATION"))


@pytest.fixture
def renamed_back():
    """Municipalities outlive a test: those renamed in it get their names back."""
    names = dict(db.session.execute(sa.select(Municipality.id, Municipality.name)).all())
    yield
    db.session.rollback()
    for municipality in db.session.scalars(sa.select(Municipality)):
        municipality.name = names[municipality.id]
    db.session.commit()


@pytest.fixture
def venues_scene(coordinator, worker, family):
    """A group the worker facilitates at Perhekeskus (Mikkeli), a second venue,
    Olkkari (Hirvensalmi), and a visit of the family with the worker: (group, venue
    of the group, visit)."""
    venue = places.create_venue(name="Perhekeskus", municipality="Mikkeli")
    places.create_venue(name="Olkkari", municipality="Hirvensalmi")
    group = make_group(coordinator, facilitators=[worker], count=2)
    group.venue = venue
    visit = book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
    db.session.commit()
    return group, venue, visit


def _rename_group(setting):
    group_services.update_group(setting["coordinator"], setting["group"],
                                {"public_title": "Vauvaryhmä"}, zone=HELSINKI,
                                clock=FixedClock(LATER))


def _move_group(setting):
    group_services.update_group(setting["coordinator"], setting["group"],
                                {"venue": "Olkkari"}, zone=HELSINKI, clock=FixedClock(LATER))


def _rename_venue(setting):
    places.update_venue(setting["venue"], name="Perhetalo", municipality="Mikkeli")


def _move_venue(setting):
    places.update_venue(setting["venue"], name="Perhekeskus", municipality="Hirvensalmi")


def _rename_municipality(setting):
    mikkeli = db.session.scalar(sa.select(Municipality).filter_by(name="Mikkeli"))
    places.update_municipality(mikkeli, name="Mikkelin kaupunki",
                               latitude=mikkeli.latitude, longitude=mikkeli.longitude)


def _new_surname(setting):
    family_services.update_family(setting["coordinator"], setting["family"],
                                  {"surname": "Korhonen"}, clock=FixedClock(LATER))


def _new_reference(setting):
    setting["family"].reference = "PT-2026-9999"


@pytest.mark.parametrize("change", [
    _rename_group, _move_group, _rename_venue, _move_venue, _rename_municipality,
    _new_surname, _new_reference], ids=lambda change: change.__name__.strip("_"))
def test_an_event_whose_text_changes_gets_a_new_sequence_and_stamp(
        app, client, coordinator, worker, family, detailed, renamed_back, venues_scene,
        change):
    group, venue, _visit = venues_scene
    _, path = subscribe(client, worker, "worker", worker.id, privacy="detailed")
    before = events_by_uid(client, path)

    set_clock(app, FixedClock(LATER))
    change({"coordinator": coordinator, "group": group, "venue": venue, "family": family})
    db.session.commit()
    after = events_by_uid(client, path)

    assert after.keys() == before.keys()
    changed = [uid for uid in after if text_of(after[uid]) != text_of(before[uid])]
    assert changed, "the change shows in no event"
    for uid in changed:
        assert after[uid]["SEQUENCE"] == before[uid]["SEQUENCE"] + 1
        for stamp in ("DTSTAMP", "LAST-MODIFIED"):
            assert after[uid].decoded(stamp) == LATER
    for uid in after.keys() - changed:
        assert after[uid].to_ical() == before[uid].to_ical()


@pytest.mark.parametrize("by", ["relationship", "key"])
def test_a_reference_is_seen_whether_its_relationship_or_its_key_is_set(
        app, client, coordinator, worker, by):
    venue = places.create_venue(name="Perhekeskus", municipality="Mikkeli")
    group = make_group(coordinator, facilitators=[worker], count=2)
    _, path = subscribe(client, worker, "worker", worker.id)
    etag = client.get(path).headers["ETag"]

    set_clock(app, FixedClock(LATER))
    if by == "relationship":
        group.venue = venue
    else:
        group.venue_id = venue.id
    db.session.commit()

    response = client.get(path, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert {(str(event["LOCATION"]), event["SEQUENCE"])
            for event in events_in(response.data)} == {("Perhekeskus, Mikkeli", 1)}


def test_the_same_venue_given_again_changes_nothing(client, coordinator, worker):
    venue = places.create_venue(name="Perhekeskus", municipality="Mikkeli")
    group = make_group(coordinator, facilitators=[worker], count=2)
    group.venue = venue
    db.session.commit()
    _, path = subscribe(client, worker, "worker", worker.id)
    etag = client.get(path).headers["ETag"]
    versions = db.session.scalars(sa.select(FeedStamp.version).order_by(
        FeedStamp.owner_type)).all()

    group = db.session.get(PeerGroup, group.id)  # its venue not loaded
    group.venue = db.session.get(Venue, venue.id)
    db.session.commit()

    assert db.session.scalars(sa.select(FeedStamp.version).order_by(
        FeedStamp.owner_type)).all() == versions
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304


def test_a_rename_leaves_the_events_no_feed_shows_any_more(app, client, coordinator,
                                                           worker):
    group = make_group(coordinator, facilitators=[worker], count=3)
    first, *_rest = sorted(group.sessions, key=lambda session: session.start)
    group_series.change_session(coordinator, first, status="cancelled",
                                clock=FixedClock(NOW))
    db.session.commit()
    _, path = subscribe(client, worker, "worker", worker.id)
    later = NOW + timedelta(days=app.config["FEED_CANCELLED_RETENTION_DAYS"] + 1)
    set_clock(app, FixedClock(later))
    shown = events_by_uid(client, path)
    assert f"session-{first.id}@perhetyo" not in shown

    group_services.update_group(coordinator, db.session.get(PeerGroup, group.id),
                                {"public_title": "Vauvaryhmä"}, zone=HELSINKI,
                                clock=FixedClock(later))
    db.session.commit()

    assert events_by_uid(client, path).keys() == shown.keys()
    assert db.session.get(GroupSession, first.id).sequence == 1  # as it was cancelled


def test_a_visit_changed_outside_its_service_still_gets_a_new_revision(
        app, client, coordinator, worker, family):
    visit = book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
    _, path = subscribe(client, worker, "worker", worker.id)
    uid = f"visit-{visit.id}@perhetyo"
    before = events_by_uid(client, path)[uid]

    set_clock(app, FixedClock(LATER))
    visit.status = "done"  # reads as booked: not a new version
    db.session.commit()
    assert events_by_uid(client, path)[uid].to_ical() == before.to_ical()

    visit.start, visit.end = visit.start + timedelta(hours=1), visit.end + timedelta(hours=1)
    db.session.commit()
    after = events_by_uid(client, path)[uid]
    assert after["SEQUENCE"] == before["SEQUENCE"] + 1
    assert after.decoded("LAST-MODIFIED") == after.decoded("DTSTAMP") == LATER


@pytest.mark.parametrize(("target", "change"), [
    ("groups/{group}", {"public_title": "Vauvaryhmä"}),
    ("groups/{group}", {"venue": "Olkkari"}),
    ("sessions/{session}", {"venue": "Olkkari"}),
    ("families/{family}", {"surname": "Korhonen"}),
    ("visits/{visit}", {"place": "Kauppakatu 3"}),
], ids=["group public title", "group venue", "session venue", "surname", "visit place"])
def test_a_change_through_the_api_reaches_the_feed_under_a_new_etag(
        app, client, coordinator, worker, family, detailed, venues_scene, target, change):
    group, _venue, visit = venues_scene
    _, path = subscribe(client, worker, "worker", worker.id, privacy="detailed")
    first = client.get(path)
    before = {str(event["UID"]): event for event in events_in(first.data)}

    set_clock(app, FixedClock(LATER))
    url = "/api/v1/" + target.format(group=group.id, session=group.sessions[0].id,
                                     family=family.id, visit=visit.id)
    assert client.patch(url, headers=bearer(coordinator), json=change).status_code == 200
    response = client.get(path, headers={"If-None-Match": first.headers["ETag"]})

    assert response.status_code == 200
    after = {str(event["UID"]): event for event in events_in(response.data)}
    changed = [uid for uid in after if text_of(after[uid]) != text_of(before[uid])]
    assert changed
    for uid in changed:
        assert after[uid]["SEQUENCE"] > before[uid]["SEQUENCE"]
        assert after[uid].decoded("LAST-MODIFIED") == LATER
    serving.feed_cache.clear()  # a restart: the same body under the same ETag
    again = client.get(path)
    assert (again.data, again.headers["ETag"]) == (response.data, response.headers["ETag"])
