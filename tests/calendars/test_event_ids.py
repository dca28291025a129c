"""A visit's or a session's id is its feed UID: a deleted one's is never given again.

SQLite without AUTOINCREMENT gives a new row the highest id in use plus one,
so the visit booked after the latest was deleted took the deleted one's id,
and a subscribed calendar kept its stale copy of that UID (SEQUENCE 0 again).
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar

from calendars import services
from calendars.conflicts import TravelPolicy
from core.clock import FixedClock
from extensions import db
from groups import series as group_series
from groups.models import GroupSession
from tests.conftest import NOW, bearer, make_group

HELSINKI = ZoneInfo("Europe/Helsinki")
SETTINGS = services.CalendarSettings(TravelPolicy(1.2, 15), "1-5 08:00-16:00", 15)


def book(coordinator, family, worker, start):
    visit = services.book_visit(coordinator, family, kind="home_visit", start=start,
                                end=start + timedelta(hours=1), worker_ids=[worker.id],
                                zone=HELSINKI, settings=SETTINGS, clock=FixedClock(NOW))
    db.session.commit()
    return visit


def feed_uids(client, path) -> set[str]:
    calendar = icalendar.Calendar.from_ical(client.get(path).data)
    return {str(event["UID"]) for event in calendar.walk("VEVENT")}


def test_a_visit_booked_after_the_latest_was_deleted_gets_a_new_id_and_uid(
        client, coordinator, worker, family, clock):
    response = client.post("/api/v1/feeds", headers=bearer(worker),
                           json={"owner_type": "worker", "owner_id": worker.id})
    path = "/" + response.get_json()["url"].split("/", 3)[3]
    book(coordinator, family, worker, datetime(2026, 12, 2, 10, tzinfo=HELSINKI))
    latest = book(coordinator, family, worker, datetime(2026, 12, 3, 10, tzinfo=HELSINKI))
    deleted_id = latest.id
    deleted_uid = f"visit-{deleted_id}@perhetyo"
    assert deleted_uid in feed_uids(client, path)

    services.delete_visit(coordinator, latest, clock=clock)
    db.session.commit()
    again = book(coordinator, family, worker, datetime(2026, 12, 3, 10, tzinfo=HELSINKI))

    assert again.id > deleted_id
    uids = feed_uids(client, path)
    assert deleted_uid not in uids and f"visit-{again.id}@perhetyo" in uids


def test_a_session_added_after_the_latest_was_deleted_gets_a_new_id_and_uid(coordinator):
    group = make_group(coordinator, status="draft", count=3)
    sessions = sorted(group.sessions, key=lambda session: session.start)
    deleted_id = sessions[-1].id
    assert deleted_id == max(session.id for session in sessions)

    def follow(count):
        # A draft's series shortened deletes its last session; lengthened, adds one.
        group_series.apply_series(group, group_series.SeriesPlan(group_series.series_rule(
            weekday=2, start_time=time(17, 0), duration_minutes=90,
            first_date=sessions[0].start.astimezone(HELSINKI).date(), count=count)),
            zone=HELSINKI, now=NOW)
        db.session.commit()

    follow(2)
    assert db.session.get(GroupSession, deleted_id) is None
    follow(3)

    new_ids = {session.id for session in group.sessions} - {s.id for s in sessions[:-1]}
    assert len(new_ids) == 1 and min(new_ids) > deleted_id
