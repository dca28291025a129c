"""Calendar feeds over HTTP: content, privacy, versions, tokens and caching."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from calendars import services
from calendars.conflicts import TravelPolicy
from calendars.feeds import serving
from core.clock import FixedClock, set_clock
from extensions import db
from tests.conftest import NOW, bearer, login, make_family, make_group, make_user

HELSINKI = ZoneInfo("Europe/Helsinki")
SETTINGS = services.CalendarSettings(TravelPolicy(1.2, 15), "1-5 08:00-16:00", 15)


@pytest.fixture
def family(coordinator, worker, social_worker):
    return make_family(coordinator, track="child_protection", social_worker=social_worker,
                       workers=[worker], plan=True, surname="Salonen")


def book(coordinator, family, worker, start):
    visit = services.book_visit(coordinator, family, kind="home_visit", start=start,
                                end=start + timedelta(hours=1), worker_ids=[worker.id],
                                zone=HELSINKI, settings=SETTINGS, clock=FixedClock(NOW))
    db.session.commit()
    return visit


def subscribe(client, user, owner_type, owner_id, **extra):
    response = client.post("/api/v1/feeds", headers=bearer(user), json={
        "owner_type": owner_type, "owner_id": owner_id, **extra})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    return body, "/" + body["url"].split("/", 3)[3]


def events_in(body: bytes):
    return [c for c in icalendar.Calendar.from_ical(body).walk("VEVENT")]


def test_a_workers_feed_carries_visits_and_sessions(client, coordinator, worker, family):
    make_group(coordinator, facilitators=[worker])
    visit = book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
    body, path = subscribe(client, worker, "worker", worker.id)
    assert body["webcal_url"].startswith("webcal://")

    response = client.get(path)
    assert response.status_code == 200
    assert response.content_type == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.data)
    # A subscription is no iTIP message: no METHOD (PUBLISH would need an ORGANIZER).
    assert "METHOD" not in calendar and b"METHOD" not in response.data
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Helsinki"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in response.data
    assert b"BEGIN:VTIMEZONE" in response.data and b"BEGIN:VALARM" not in response.data
    events = events_in(response.data)
    uids = [str(event["UID"]) for event in events]
    assert f"visit-{visit.id}@perhetyo" in uids
    assert sum(uid.startswith("session-") for uid in uids) == 8
    first = next(e for e in events if str(e["UID"]) == f"visit-{visit.id}@perhetyo")
    assert b"DTSTART;TZID=Europe/Helsinki:20261202T100000" in response.data
    assert first.decoded("DTSTART") == datetime(2026, 12, 2, 10, tzinfo=HELSINKI)


def test_minimal_feeds_reveal_nothing_more(client, coordinator, worker, family):
    book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
    family.plan.content = "SALAISUUS-SUUNNITELMA"
    db.session.commit()
    _, path = subscribe(client, worker, "worker", worker.id)
    response = client.get(path)
    text = response.get_data(as_text=True)
    [event] = events_in(response.data)
    assert str(event["SUMMARY"]) == f"Home visit {family.reference}, Mikkeli"
    assert str(event["LOCATION"]) == "Mikkeli"
    for forbidden in ("Salonen", "Porrassalmenkatu", "Eeli", "Anna", "SALAISUUS",
                      "child_protection", "lastensuojelu", "Lastensuojelu"):
        assert forbidden not in text


def test_detailed_feeds_need_the_admins_policy(app, client, coordinator, worker, family):
    response = client.post("/api/v1/feeds", headers=bearer(worker), json={
        "owner_type": "worker", "owner_id": worker.id, "privacy": "detailed"})
    assert response.status_code == 422
    app.config["FEED_DETAILED_ALLOWED"] = True
    try:
        book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
        _, path = subscribe(client, worker, "worker", worker.id, privacy="detailed")
        text = client.get(path).get_data(as_text=True)
        assert "Salonen" in text and "Porrassalmenkatu" in text
    finally:
        app.config["FEED_DETAILED_ALLOWED"] = False
    # Once the policy forbids detailed feeds (a new setting, so a restart with
    # empty answers), the feed made while it allowed them says no more than minimal.
    serving.feed_cache.clear()
    text = client.get(path).get_data(as_text=True)
    assert "PT-" in text and "Salonen" not in text and "Porrassalmenkatu" not in text
    login(client, worker)  # and the subscription page says so
    page = client.get(f"/calendars/feeds/subscribe?owner_type=worker&owner_id={worker.id}")
    html = page.get_data(as_text=True)
    assert "Minimal: the family" in html and "Detailed: also" not in html


def test_a_change_keeps_the_uid_and_raises_the_sequence(client, coordinator, worker, family,
                                                         clock):
    visit = book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
    _, path = subscribe(client, worker, "worker", worker.id)
    before = client.get(path)
    services.update_visit(coordinator, visit, {
        "start": datetime(2026, 12, 3, 10, tzinfo=HELSINKI)}, zone=HELSINKI,
        settings=SETTINGS, clock=FixedClock(NOW + timedelta(minutes=5)))
    db.session.commit()
    after = client.get(path)
    assert before.headers["ETag"] != after.headers["ETag"]
    [event] = events_in(after.data)
    assert str(event["UID"]) == f"visit-{visit.id}@perhetyo"
    assert event["SEQUENCE"] == 1


def test_a_cancelled_event_stays_marked_then_leaves(app, client, coordinator, worker, family):
    visit = book(coordinator, family, worker, datetime(2026, 12, 18, 10, tzinfo=HELSINKI))
    _, path = subscribe(client, worker, "worker", worker.id)
    services.update_visit(coordinator, visit, {"status": "cancelled"}, zone=HELSINKI,
                          settings=SETTINGS, clock=FixedClock(NOW))
    db.session.commit()
    [event] = events_in(client.get(path).data)
    assert event["STATUS"] == "CANCELLED" and event["SEQUENCE"] == 1
    assert str(event["SUMMARY"]).startswith("Cancelled: ")
    set_clock(app, FixedClock(NOW + timedelta(days=15)))
    assert events_in(client.get(path).data) == []


def test_a_deleted_event_leaves_at_once(client, coordinator, worker, family, clock):
    visit = book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
    _, path = subscribe(client, worker, "worker", worker.id)
    services.delete_visit(coordinator, visit, clock=clock)
    db.session.commit()
    assert events_in(client.get(path).data) == []


def test_an_empty_feed_is_a_valid_calendar(client, worker):
    _, path = subscribe(client, worker, "worker", worker.id)
    response = client.get(path)
    calendar = icalendar.Calendar.from_ical(response.data)
    assert calendar.walk("VEVENT") == [] and calendar["VERSION"] == "2.0"


def test_etag_and_last_modified_give_304_and_head_gives_no_body(client, coordinator,
                                                                  worker, family):
    book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
    _, path = subscribe(client, worker, "worker", worker.id)
    first = client.get(path)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith('W/')
    assert first.headers["Cache-Control"].startswith("private")
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    since = first.headers["Last-Modified"]
    assert client.get(path, headers={"If-Modified-Since": since}).status_code == 304
    head = client.head(path)
    assert head.status_code == 200 and head.data == b""
    assert int(head.headers["Content-Length"]) == len(first.data)


def test_unknown_revoked_and_rotated_tokens(client, worker):
    body, path = subscribe(client, worker, "worker", worker.id)
    assert client.get("/calendars/feeds/not-a-token.ics").status_code == 404
    assert client.get("/calendars/feeds/not-a-token.ics").data == b""
    rotated = client.post(f"/api/v1/feeds/{body['id']}/rotate", headers=bearer(worker))
    new_path = "/" + rotated.get_json()["url"].split("/", 3)[3]
    assert client.get(path).status_code == 404
    assert client.get(new_path).status_code == 200
    client.delete(f"/api/v1/feeds/{rotated.get_json()['id']}", headers=bearer(worker))
    assert client.get(new_path).status_code == 404


def test_a_fetch_is_noted(client, worker):
    body, path = subscribe(client, worker, "worker", worker.id)
    client.get(path)
    listed = client.get("/api/v1/feeds", headers=bearer(worker)).get_json()
    assert listed[0]["last_used_at"] and listed[0]["url"] is None


def test_family_and_group_feeds_show_no_other_family(client, coordinator, worker, family,
                                                     clock):
    from groups import enrollment as group_enrollment

    group = make_group(coordinator, facilitators=[worker])
    other = make_family(coordinator, workers=[worker], plan=True, surname="Toivonen")
    for member_of in (family, other):
        group_enrollment.enroll(coordinator, group, member_of, [m.id for m in member_of.members],
                                zone=HELSINKI, clock=clock)
    db.session.commit()
    book(coordinator, other, worker, datetime(2026, 12, 3, 10, tzinfo=HELSINKI))
    book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
    _, family_path = subscribe(client, coordinator, "family", family.id)
    _, group_path = subscribe(client, coordinator, "group", group.id)
    family_feed = client.get(family_path).get_data(as_text=True)
    group_feed = client.get(group_path).get_data(as_text=True)
    assert other.reference not in family_feed and family.reference not in family_feed
    assert "Taaperoryhmä" in family_feed
    for reference in (family.reference, other.reference):
        assert reference not in group_feed
    assert len(events_in(group_feed.encode())) == 8


def test_feeds_are_made_only_by_those_who_may(client, coordinator, worker, family):
    other_worker = make_user("family_worker")
    for owner_type, owner_id in (("worker", worker.id), ("family", family.id)):
        response = client.post("/api/v1/feeds", headers=bearer(other_worker), json={
            "owner_type": owner_type, "owner_id": owner_id})
        assert response.status_code == 404


def test_the_repeated_autumn_hour_is_written_in_utc(app):
    from datetime import UTC

    from calendars.events import HOME_VISIT
    from calendars.events import Event as CalendarEvent
    from calendars.feeds.ical import event_bytes

    # 03:30 happens twice on 31 October 2027; this is the second time (01:30 UTC).
    second = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    event = CalendarEvent(kind=HOME_VISIT, id=1, start=second,
                          end=second + timedelta(hours=1), status="scheduled", sequence=0,
                          created=NOW, last_modified=NOW, municipality_id=1,
                          municipality="Mikkeli", visit_kind="home_visit", family_id=1,
                          family_reference="PT-2027-0001", family_surname="Salonen")
    data = event_bytes(event, owner_type="worker", privacy="minimal", locale="en",
                       zone=HELSINKI)
    assert b"DTSTART:20271031T013000Z" in data
    assert b"DTEND;TZID=Europe/Helsinki:20271031T043000" in data


def test_the_time_zone_is_its_yearly_rules(app):
    from calendars.feeds.ical import _vtimezone

    text = _vtimezone("Europe/Helsinki", 2026, 2028).decode()
    assert text.count("BEGIN:DAYLIGHT") == 1 and text.count("BEGIN:STANDARD") == 1
    assert "RDATE" not in text and "UNTIL" not in text
    daylight = text[text.index("BEGIN:DAYLIGHT"):text.index("END:DAYLIGHT")]
    standard = text[text.index("BEGIN:STANDARD"):text.index("END:STANDARD")]
    # From the year before the first, at the local time before each change (RFC 5545).
    assert "DTSTART:20250330T030000\r\n" in daylight
    assert "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0300" in daylight
    assert "DTSTART:20251026T040000\r\n" in standard
    assert "TZOFFSETFROM:+0300\r\nTZOFFSETTO:+0200" in standard
    for part, month in ((daylight, 3), (standard, 10)):
        [rule] = [line for line in part.split("\r\n") if line.startswith("RRULE:")]
        assert sorted(rule.removeprefix("RRULE:").split(";")) == [
            "BYDAY=-1SU", f"BYMONTH={month}", "FREQ=YEARLY"]


def test_a_zone_without_summer_time_is_one_standard_observance(app):
    from calendars.feeds.ical import _vtimezone

    text = _vtimezone("Asia/Tokyo", 2026, 2028).decode()
    assert text.count("BEGIN:STANDARD") == 1 and "DAYLIGHT" not in text
    assert "RRULE" not in text and "TZOFFSETFROM:+0900\r\nTZOFFSETTO:+0900" in text


def test_a_rule_given_up_ends_and_a_change_not_repeated_is_dated(app):
    from calendars.feeds.ical import _vtimezone

    # Mexico City kept summer time until October 2022: the rule ends with UNTIL
    # (a day after its last change), and nothing follows it.
    text = _vtimezone("America/Mexico_City", 2021, 2024).decode()
    assert text.count("RRULE:") == 2 and text.count("UNTIL=") == 2
    assert "UNTIL=20221031T070000Z" in text
    # Morocco's changes follow Ramadan: each one is dated, none is a rule.
    text = _vtimezone("Africa/Casablanca", 2026, 2028).decode()
    assert "RRULE" not in text and text.count("BEGIN:") == 1 + 2 * 4


def _offsets_read_from(vtimezone: bytes):
    """The zone as icalendar (with dateutil) reads the VTIMEZONE alone."""
    calendar = icalendar.Calendar.from_ical(b"BEGIN:VCALENDAR\r\n" + vtimezone
                                            + b"END:VCALENDAR\r\n")
    [component] = calendar.walk("VTIMEZONE")
    return component.to_tz(lookup_tzid=False)


def test_every_zone_is_read_back_as_the_zone_data_has_it(app):
    """For every zone Python knows, the VTIMEZONE gives the offset of zoneinfo a
    second before and at each change, and in the middle of every month, over
    four years."""
    from datetime import UTC
    from zoneinfo import ZoneInfo, available_timezones

    from calendars.feeds.ical import _vtimezone, transitions

    wrong = {}
    for key in sorted(available_timezones()):
        zone = ZoneInfo(key)
        read = _offsets_read_from(_vtimezone(key, 2026, 2029))
        probes = [datetime(year, month, 15, 12, tzinfo=UTC)
                  for year in range(2026, 2030) for month in range(1, 13)]
        for instant, _before, _after in transitions(zone, 2026, 2029):
            probes += [instant - timedelta(seconds=1), instant]
        for probe in probes:
            if probe.astimezone(read).utcoffset() != probe.astimezone(zone).utcoffset():
                wrong[key] = probe
                break
    assert wrong == {}


def test_changes_are_found_to_the_second(app):
    from datetime import UTC

    from calendars.feeds.ical import transitions

    found = [(instant, before.utcoffset(), after.utcoffset())
             for instant, before, after in transitions(HELSINKI, 2027, 2027)]
    assert found == [(datetime(2027, 3, 28, 1, tzinfo=UTC), timedelta(hours=2),
                      timedelta(hours=3)),
                     (datetime(2027, 10, 31, 1, tzinfo=UTC), timedelta(hours=3),
                      timedelta(hours=2))]


def test_the_feed_is_named_in_its_own_language(client, worker):
    _, path = subscribe(client, worker, "worker", worker.id, locale="fi")
    calendar = icalendar.Calendar.from_ical(client.get(path).data)
    assert str(calendar["X-WR-CALNAME"]).startswith("Perhetyö: ")
