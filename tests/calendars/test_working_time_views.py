"""The working-time page: hours by weekday, absences, and what they leave booked."""

from datetime import datetime

import pytest
import sqlalchemy as sa

from calendars import working_time
from calendars.models import Absence, WorkingHours
from extensions import db
from tests.calendars.test_feeds import HELSINKI, book
from tests.conftest import csrf_token_from, login, make_user

PAGE = "/calendars/working-time"


def hours_data(token, rows):
    """The hours form: ``rows`` maps a weekday (1-7) to (start, end) text."""
    data = {"csrf_token": token}
    for index in range(7):
        start, end = rows.get(index + 1, ("", ""))
        data[f"days-{index}-start"], data[f"days-{index}-end"] = start, end
    return data


def absence_data(token, **fields):
    return {"csrf_token": token, "kind": "leave", "first_day": "2026-12-07",
            "last_day": "2026-12-11", "start_time": "", "end_time": "", "note": "", **fields}


def page_token(client, url=PAGE):
    return csrf_token_from(client.get(url).get_data(as_text=True))


def stored_hours(worker):
    return {row.weekday: (row.start_time.isoformat("minutes"), row.end_time.isoformat("minutes"))
            for row in db.session.scalars(sa.select(WorkingHours).where(
                WorkingHours.user_id == worker.id))}


def test_a_worker_sees_the_default_hours_then_keeps_their_own(client, worker):
    login(client, worker)
    html = client.get(PAGE).get_data(as_text=True)
    assert "default hours" in html and 'value="08:00"' in html
    response = client.post(f"{PAGE}/hours?worker={worker.id}", data=hours_data(
        page_token(client), {1: ("07:30", "15:30"), 3: ("12:00", "20:00")}))
    assert response.status_code == 302
    assert stored_hours(worker) == {1: ("07:30", "15:30"), 3: ("12:00", "20:00")}
    html = client.get(PAGE).get_data(as_text=True)
    assert 'value="07:30"' in html and "Use the unit's default hours" in html
    client.post(f"{PAGE}/default-hours?worker={worker.id}",
                data={"csrf_token": page_token(client)})
    assert stored_hours(worker) == {}


@pytest.mark.parametrize("rows, message", [
    ({1: ("16:00", "08:00")}, "The end must be after the start."),
    ({1: ("08:00", "")}, "Give both times, or neither for a day off."),
    ({1: ("25:00", "26:00")}, "Not a valid time value."),
    ({}, "Give the hours of at least one weekday."),
])
def test_bad_hours_are_shown_on_the_form_and_keep_the_old_ones(client, worker, rows,
                                                               message):
    login(client, worker)
    client.post(f"{PAGE}/hours?worker={worker.id}",
                data=hours_data(page_token(client), {2: ("09:00", "17:00")}))
    response = client.post(f"{PAGE}/hours?worker={worker.id}",
                           data=hours_data(page_token(client), rows))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert stored_hours(worker) == {2: ("09:00", "17:00")}


def test_an_absence_over_booked_visits_asks_and_then_lists_them(client, coordinator,
                                                                worker, family):
    visit = book(coordinator, family, worker, datetime(2026, 12, 8, 10, tzinfo=HELSINKI))
    login(client, worker)
    asked = client.post(f"{PAGE}/absences?worker={worker.id}",
                        data=absence_data(page_token(client)))
    html = asked.get_data(as_text=True)
    assert asked.status_code == 422 and f"/calendars/visits/{visit.id}" in html
    assert 'name="confirm"' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Absence)) == 0

    recorded = client.post(f"{PAGE}/absences?worker={worker.id}",
                           data=absence_data(page_token(client), confirm="y"))
    assert recorded.status_code == 302
    absence = db.session.scalar(sa.select(Absence))
    assert absence.start == datetime(2026, 12, 7, tzinfo=HELSINKI)
    assert absence.end == datetime(2026, 12, 12, tzinfo=HELSINKI)  # the last day whole
    html = client.get(PAGE).get_data(as_text=True)
    assert "Mon 7 Dec 2026 – Fri 11 Dec 2026" in html  # whole days, as dates
    assert "Still booked during the absence" in html
    assert f"/calendars/visits/{visit.id}" in html and "Tue 8 Dec 2026 10:00" in html


def test_an_absence_without_bookings_is_recorded_at_once_and_can_be_removed(client,
                                                                           worker):
    login(client, worker)
    response = client.post(f"{PAGE}/absences?worker={worker.id}", data=absence_data(
        page_token(client), kind="training", start_time="12:00", end_time="16:00",
        last_day="2026-12-07", note="Koulutus"))
    assert response.status_code == 302
    absence = db.session.scalar(sa.select(Absence))
    assert (absence.kind, absence.note) == ("training", "Koulutus")
    assert absence.end == datetime(2026, 12, 7, 16, tzinfo=HELSINKI)
    assert "Training" in client.get(PAGE).get_data(as_text=True)
    client.post(f"{PAGE}/absences/{absence.id}/delete",
                data={"csrf_token": page_token(client)})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Absence)) == 0


@pytest.mark.parametrize("fields, message", [
    ({"last_day": "2026-12-01"}, "The end must be after the start."),
    ({"kind": "holiday"}, "Not a valid choice."),
    ({"first_day": "7.12.2026x"}, "Not a valid date value."),
    ({"first_day": "2026-12-01", "last_day": "2028-01-31"}, "at most 366 days"),
    ({"note": "x" * 301}, "Field cannot be longer than 300 characters."),
    ({"first_day": "3026-12-01", "last_day": "3026-12-02"}, "Give a date in the years"),
])
def test_bad_absences_are_refused_on_the_form(client, worker, fields, message):
    login(client, worker)
    response = client.post(f"{PAGE}/absences?worker={worker.id}",
                           data=absence_data(page_token(client), **fields))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Absence)) == 0


def test_a_coordinator_keeps_the_working_time_of_their_workers_only(client, coordinator,
                                                                    worker):
    elsewhere = make_user("family_worker", municipalities=("Puumala",))
    login(client, coordinator)
    assert client.get(f"{PAGE}?worker={worker.id}").status_code == 200
    assert client.get(f"{PAGE}?worker={elsewhere.id}").status_code == 404
    assert client.get(f"{PAGE}?worker={coordinator.id}").status_code == 404  # no hours
    for nonsense in ("abc", "9" * 12, "-1"):
        assert client.get(f"{PAGE}?worker={nonsense}").status_code == 404
    week = client.get(f"/calendars/week?worker={worker.id}").get_data(as_text=True)
    assert f"{PAGE}?worker={worker.id}" in week


def test_the_clash_check_names_the_absence_in_the_readers_language(client, coordinator,
                                                                   worker, family):
    working_time.add_absence(worker, worker, kind="leave",
                             start=datetime(2026, 12, 7, tzinfo=HELSINKI),
                             end=datetime(2026, 12, 12, tzinfo=HELSINKI))
    db.session.commit()
    login(client, coordinator)
    token = page_token(client, f"/calendars/visits/new?family={family.id}")
    refused = client.post("/calendars/visits/new", data={
        "csrf_token": token, "family_id": family.id, "kind": "home_visit",
        "day": "2026-12-08", "start": "10:00", "duration_minutes": "60",
        "worker_ids": worker.id, "repeat": ""})
    assert refused.status_code == 422
    assert "is away (leave)" in refused.get_data(as_text=True)


def test_the_calendars_show_who_is_away(client, coordinator, worker):
    working_time.add_absence(worker, worker, kind="leave",
                             start=datetime(2026, 12, 7, tzinfo=HELSINKI),
                             end=datetime(2026, 12, 9, tzinfo=HELSINKI))
    working_time.add_absence(worker, worker, kind="training",
                             start=datetime(2026, 12, 10, 12, tzinfo=HELSINKI),
                             end=datetime(2026, 12, 10, 16, tzinfo=HELSINKI))
    db.session.commit()
    login(client, coordinator)
    week = client.get(f"/calendars/week?worker={worker.id}&date=2026-12-07")
    days = week.get_data(as_text=True).split('<li class="day')[1:]
    assert ["Away: Leave" in day for day in days] == [True, True] + [False] * 5
    assert "Away: Training 12:00–16:00" in days[3] and "Nothing booked" not in days[3]
    day = client.get("/calendars/day?date=2026-12-08").get_data(as_text=True)
    column = day[day.index(f'id="worker-{worker.id}"'):]
    assert "Away: Leave" in column[:column.index("</section>")]
    month = client.get(f"/calendars/month?worker={worker.id}&date=2026-12-01")
    assert month.get_data(as_text=True).count('class="absence-tag"') == 3


def test_a_refused_absence_leaves_the_hours_shown_as_stored(client, worker):
    login(client, worker)
    client.post(f"{PAGE}/hours?worker={worker.id}",
                data=hours_data(page_token(client), {2: ("09:30", "17:30")}))
    refused = client.post(f"{PAGE}/absences?worker={worker.id}", data=absence_data(
        page_token(client), last_day="2026-12-01"))
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'name="days-1-start" type="time" value="09:30"' in html
