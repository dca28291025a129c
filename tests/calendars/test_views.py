"""The calendar pages: a worker's week and month, the coordinators' day view,
booking with clashes, warnings and suggested times, and a visit's page with
its changes; refusals shown on the page, never a server error."""

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from calendars import services
from calendars.conflicts import TravelPolicy
from calendars.models import HomeVisit
from core.clock import FixedClock
from extensions import db
from tests.conftest import (
    HELSINKI,
    NOW,
    csrf_token_from,
    login,
    make_family,
    make_group,
    make_user,
)

SETTINGS = services.CalendarSettings(TravelPolicy(1.2, 15), "1-5 08:00-16:00", 15)


def html_of(response) -> str:
    return response.get_data(as_text=True)


def at(day, hour, minute=0):
    """An instant in December 2026, Helsinki time."""
    return datetime(2026, 12, day, hour, minute, tzinfo=HELSINKI)


def book(actor, family, start, minutes=60, workers=None, kind="home_visit"):
    visit = services.book_visit(
        actor, family, kind=kind, start=start, end=start + timedelta(minutes=minutes),
        worker_ids=[w.id for w in workers or family.family_workers], zone=HELSINKI,
        settings=SETTINGS, clock=FixedClock(NOW))
    db.session.commit()
    return visit


def visit_count() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(HomeVisit.id)))


def post_form(client, url, data, page_url=None):
    """Post a page's form as a browser would: with the CSRF token of the session."""
    token = csrf_token_from(html_of(client.get(page_url or url)))
    return client.post(url, data={**data, "csrf_token": token})


def booking_fields(family, worker, **overrides):
    """The booking form filled in: a home visit on Wednesday 2 December at 10:00."""
    fields = {"family_id": str(family.id), "kind": "home_visit", "day": "2026-12-02",
              "start": "10:00", "duration_minutes": "60", "end": "",
              "worker_ids": [str(worker.id)], "place": "", "repeat": "", "count": ""}
    fields.update(overrides)
    return fields


@pytest.fixture
def worker(app):
    return make_user("family_worker", name="Liisa Laine")


# --- the week --------------------------------------------------------------

def test_week_shows_the_workers_visit_and_group_session_with_links(client, coordinator,
                                                                    worker, family):
    visit = book(coordinator, family, at(2, 10))
    group = make_group(coordinator, facilitators=[worker], name="Taaperoryhmä")
    login(client, worker)
    response = client.get("/calendars/week")
    assert response.status_code == 200
    html = html_of(response)
    assert "My week" in html
    assert "Week 49: 30 Nov 2026 – 6 Dec 2026" in html
    assert f'href="/calendars/visits/{visit.id}"' in html
    assert "Home visit · " + family.reference in html
    assert "10:00–11:00" in html and "Mikkeli" in html
    assert f'href="/groups/{group.id}"' in html
    assert "Group: Taaperoryhmä" in html and "17:00–18:30" in html


def test_week_marks_today_and_links_to_the_weeks_around_it(client, worker):
    login(client, worker)
    html = html_of(client.get("/calendars/week"))
    today = re.search(r'<li class="day today[^"]*" aria-current="date">\s*<h2[^>]*>([^<]+)',
                      html)
    assert today and today.group(1).strip() == "Mon 30 Nov 2026"
    assert html.count('aria-current="date"') == 1
    assert f"/calendars/week?worker={worker.id}&amp;date=2026-11-23" in html
    assert f"/calendars/week?worker={worker.id}&amp;date=2026-12-07" in html
    assert f"/calendars/month?worker={worker.id}" in html
    assert f'href="/calendars/visits/new?worker={worker.id}"' in html


def test_week_of_another_date_shows_that_week_without_today(client, worker):
    login(client, worker)
    html = html_of(client.get("/calendars/week?date=2026-12-10"))
    assert "Week 50: 7 Dec 2026 – 13 Dec 2026" in html
    assert 'aria-current="date"' not in html


def test_week_shows_a_cancelled_visit_struck_through(client, coordinator, worker, family):
    visit = book(coordinator, family, at(3, 9))
    services.update_visit(coordinator, visit, {"status": "cancelled"}, zone=HELSINKI,
                          settings=SETTINGS, clock=FixedClock(NOW))
    db.session.commit()
    login(client, worker)
    html = html_of(client.get("/calendars/week"))
    assert "event-cancelled" in html and "Cancelled" in html


def test_family_worker_cannot_see_another_workers_week(client, worker):
    colleague = make_user("family_worker")
    login(client, worker)
    assert client.get(f"/calendars/week?worker={colleague.id}").status_code == 404
    assert client.get(f"/calendars/month?worker={colleague.id}").status_code == 404


def test_coordinator_of_the_workers_municipality_sees_their_week(client, coordinator,
                                                                  worker, family):
    book(coordinator, family, at(2, 10))
    login(client, coordinator)
    response = client.get(f"/calendars/week?worker={worker.id}")
    assert response.status_code == 200
    html = html_of(response)
    assert "Week of Liisa Laine" in html and family.reference in html


def test_coordinator_of_another_municipality_cannot_see_the_week(client, worker):
    elsewhere = make_user("coordinator", municipalities=("Puumala",))
    login(client, elsewhere)
    assert client.get(f"/calendars/week?worker={worker.id}").status_code == 404


@pytest.mark.parametrize("query", ["date=2026-13-40", "date=tomorrow", "date=9999-12-31",
                                   "worker=abc", "worker=99999999999999999999"])
def test_bad_calendar_addresses_are_refused_not_errors(client, worker, query):
    login(client, worker)
    response = client.get(f"/calendars/week?{query}")
    assert response.status_code in (404, 422)


# --- the month -------------------------------------------------------------

def test_month_view_shows_counts_and_links_each_day_to_its_week(client, coordinator,
                                                                 worker, family):
    book(coordinator, family, at(2, 10))
    book(coordinator, family, at(2, 13))
    login(client, worker)
    response = client.get("/calendars/month?date=2026-12-15")
    assert response.status_code == 200
    html = html_of(response)
    assert "<caption>December 2026</caption>" in html
    assert '<th scope="col">' in html
    assert f"/calendars/week?worker={worker.id}&amp;date=2026-12-02" in html
    assert "2 events" in html
    assert f"10:00 {family.reference}" in html
    # The grid starts on the Monday before the first: today (30 Nov) is in it.
    assert html.count('aria-current="date"') == 1
    assert f"/calendars/month?worker={worker.id}&amp;date=2027-01-01" in html
    assert f"/calendars/month?worker={worker.id}&amp;date=2026-11-01" in html


# --- the coordinators' day -------------------------------------------------

def test_day_view_shows_the_workers_of_the_municipalities_side_by_side(
        client, coordinator, worker, family):
    colleague = make_user("family_worker", name="Kalle Koski", municipalities=("Hirvensalmi",))
    elsewhere = make_user("family_worker", name="Pekka Puumala", municipalities=("Puumala",))
    other_family = make_family(coordinator, workers=[colleague], plan=True,
                               municipality="Hirvensalmi")
    book(coordinator, family, at(2, 10))
    book(coordinator, other_family, at(2, 12))
    login(client, coordinator)
    response = client.get("/calendars/day?date=2026-12-02")
    assert response.status_code == 200
    html = html_of(response)
    assert "Wed 2 Dec 2026" in html
    assert "Liisa Laine" in html and "Kalle Koski" in html
    assert "Pekka Puumala" not in html and elsewhere.name not in html
    assert family.reference in html and other_family.reference in html
    assert html.count('class="worker-day"') == 2
    assert f"/calendars/week?worker={colleague.id}&amp;date=2026-12-02" in html


def test_admin_sees_every_family_worker_in_the_day_view(client, admin, worker):
    make_user("family_worker", name="Pekka Puumala", municipalities=("Puumala",))
    login(client, admin)
    html = html_of(client.get("/calendars/day"))
    assert "Liisa Laine" in html and "Pekka Puumala" in html
    assert "Today" in html


def test_day_view_is_refused_to_a_family_worker(client, worker):
    login(client, worker)
    assert client.get("/calendars/day").status_code == 403


def test_navigation_offers_each_role_its_calendar(client, coordinator, worker):
    login(client, worker)
    html = html_of(client.get("/calendars/week"))
    assert ">My calendar</a>" in html and "Day view</a>" not in html
    client.post("/logout", data={"csrf_token": csrf_token_from(html)})
    login(client, coordinator)
    html = html_of(client.get("/calendars/day"))
    assert ">Day view</a>" in html and "My calendar" not in html


# --- booking ---------------------------------------------------------------

def test_booking_form_books_a_visit_and_shows_it(client, worker, family):
    login(client, worker)
    url = f"/calendars/visits/new?family={family.id}"
    response = post_form(client, url, booking_fields(family, worker))
    assert response.status_code == 302, html_of(response)
    visit = db.session.scalar(sa.select(HomeVisit))
    assert response.headers["Location"] == f"/calendars/visits/{visit.id}"
    assert visit.start == at(2, 10) and visit.end == at(2, 11)
    assert visit.workers == [worker] and visit.place == family.address
    html = html_of(client.get(response.headers["Location"]))
    assert "was booked" in html and "Wed 2 Dec 2026" in html


def test_booking_form_takes_an_end_time_instead_of_the_duration(client, worker, family):
    login(client, worker)
    response = post_form(client, "/calendars/visits/new",
                         booking_fields(family, worker, duration_minutes="", end="11:30"))
    assert response.status_code == 302
    assert db.session.scalar(sa.select(HomeVisit.end)) == at(2, 11, 30)


def test_booking_form_starts_with_the_familys_workers_and_a_planning_meeting(
        client, coordinator, worker):
    family = make_family(coordinator, workers=[worker])  # no plan yet
    login(client, coordinator)
    html = html_of(client.get(f"/calendars/visits/new?family={family.id}"))
    assert re.search(rf'value="{worker.id}"[^>]*checked|checked[^>]*value="{worker.id}"', html)
    assert re.search(r'<option selected value="planning_meeting">|'
                     r'<option value="planning_meeting" selected>', html)
    assert "only the planning meeting can be booked" in html


def test_a_home_visit_without_a_plan_is_refused_with_the_plan_message(client, coordinator,
                                                                      worker):
    family = make_family(coordinator, workers=[worker])
    login(client, coordinator)
    response = post_form(client, "/calendars/visits/new", booking_fields(family, worker))
    assert response.status_code == 422
    assert "Family work starts with a plan" in html_of(response)
    assert visit_count() == 0


def test_the_planning_meeting_is_booked_without_a_plan(client, coordinator, worker):
    family = make_family(coordinator, workers=[worker])
    login(client, coordinator)
    response = post_form(client, "/calendars/visits/new",
                         booking_fields(family, worker, kind="planning_meeting"))
    assert response.status_code == 302
    assert visit_count() == 1


def test_a_hard_clash_says_what_it_clashes_with_and_books_nothing(client, coordinator,
                                                                  worker, family):
    other = make_family(coordinator, workers=[worker], plan=True)
    book(coordinator, other, at(2, 10))
    login(client, worker)
    response = post_form(client, "/calendars/visits/new",
                         booking_fields(family, worker, start="10:30"))
    assert response.status_code == 422
    html = html_of(response)
    assert "The time clashes" in html
    assert f"Liisa Laine has the visit to {other.reference} at 10:00." in html
    assert "Book despite the warnings" not in html
    assert visit_count() == 1


def test_a_clash_with_a_facilitated_group_is_named(client, coordinator, worker, family):
    make_group(coordinator, facilitators=[worker], name="Taaperoryhmä")
    login(client, worker)
    response = post_form(client, "/calendars/visits/new",
                         booking_fields(family, worker, day="2026-12-01", start="17:30",
                                        confirm="y"))
    assert response.status_code == 422
    assert "the group Taaperoryhmä at 17:00" in html_of(response)
    assert visit_count() == 0


def test_a_visit_outside_working_hours_asks_for_confirmation_then_books(client, worker,
                                                                        family):
    login(client, worker)
    fields = booking_fields(family, worker, start="17:00")
    response = post_form(client, "/calendars/visits/new", fields)
    assert response.status_code == 422
    html = html_of(response)
    assert "Outside Liisa Laine&#39;s working hours." in html
    assert "Book despite the warnings" in html
    assert visit_count() == 0
    response = client.post("/calendars/visits/new", data={
        **fields, "confirm": "y", "csrf_token": csrf_token_from(html)})
    assert response.status_code == 302
    assert visit_count() == 1


def test_the_booking_page_suggests_free_times_that_fill_in_the_form(client, worker,
                                                                    family):
    login(client, worker)
    html = html_of(client.get(f"/calendars/visits/new?family={family.id}"))
    assert "Suggested times" in html
    links = re.findall(r'href="(/calendars/visits/new\?[^"]+)"', html)
    assert 1 <= len(links) <= 8
    # The first free time: today, Monday 30 November, after the clock's 10:00.
    first = links[0].replace("&amp;", "&")
    assert "date=2026-11-30" in first and "start=10:00" in first
    assert f"worker={worker.id}" in first and "duration=60" in first
    # Alternatives, not the same morning in quarter-hour steps: at most two a day.
    assert "start=10:15" not in html
    days = [re.search(r"date=([\d-]+)", link).group(1) for link in links]
    assert max(days.count(day) for day in days) <= 2
    filled = html_of(client.get(first))
    assert 'value="2026-11-30"' in filled and 'value="10:00"' in filled


def test_suggest_times_button_uses_the_chosen_duration(client, worker, family):
    login(client, worker)
    response = post_form(client, "/calendars/visits/new",
                         booking_fields(family, worker, day="", start="",
                                        duration_minutes="90", suggest="Suggest times"))
    assert response.status_code == 200
    html = html_of(response)
    assert "Suggested times" in html and "duration=90" in html
    assert visit_count() == 0


@pytest.mark.parametrize("overrides, field", [
    ({"day": "2026-13-40"}, "day"),
    ({"start": "25:99"}, "start"),
    ({"duration_minutes": "0"}, "duration_minutes"),
    ({"duration_minutes": "abc"}, "duration_minutes"),
    ({"worker_ids": []}, "worker_ids"),
    ({"family_id": "999999"}, "family_id"),
    ({"kind": "party"}, "kind"),
    ({"day": "1800-01-01"}, "day"),
    ({"end": "09:00"}, "end"),
    ({"repeat": "1", "count": ""}, "count"),
    ({"repeat": "1", "count": "500"}, "count"),
    ({"repeat": "3", "count": "4"}, "repeat"),
    ({"family_id": "abc"}, "family_id"),
    ({"worker_ids": ["abc"]}, "worker_ids"),
    ({"day": "99999-01-01"}, "day"),
    ({"place": "x" * 201}, "place"),
])
def test_bad_booking_input_gets_field_errors_not_a_server_error(client, worker, family,
                                                                 overrides, field):
    login(client, worker)
    response = post_form(client, "/calendars/visits/new",
                         booking_fields(family, worker, **overrides))
    assert response.status_code == 422
    assert f'id="{field}-error"' in html_of(response)
    assert visit_count() == 0


def test_a_family_worker_cannot_book_for_a_family_not_theirs(client, coordinator, worker):
    other = make_family(coordinator, plan=True)
    login(client, worker)
    assert client.get(f"/calendars/visits/new?family={other.id}").status_code == 404


def test_booking_regular_visits_books_the_series(client, worker, family):
    login(client, worker)
    response = post_form(client, "/calendars/visits/new",
                         booking_fields(family, worker, repeat="2", count="3"))
    assert response.status_code == 302
    db.session.expire_all()
    starts = db.session.scalars(sa.select(HomeVisit.start).order_by(HomeVisit.start)).all()
    assert starts == [at(2, 10), at(16, 10), at(30, 10)]
    assert "3 visits were booked." in html_of(client.get(response.headers["Location"]))


# --- one visit -------------------------------------------------------------

def test_visit_page_shows_the_details(client, coordinator, worker, social_worker):
    family = make_family(coordinator, track="child_protection", social_worker=social_worker,
                         workers=[worker])
    visit = book(coordinator, family, at(2, 10), kind="planning_meeting")
    login(client, worker)
    response = client.get(f"/calendars/visits/{visit.id}")
    assert response.status_code == 200
    html = html_of(response)
    assert "Planning meeting on Wed 2 Dec 2026" in html
    assert f'href="/families/{family.id}"' in html
    assert family.address in html and "Mikkeli" in html and "Liisa Laine" in html
    assert "Invited social worker" in html and social_worker.name in html
    assert "Scheduled" in html


def test_a_visit_of_another_worker_is_not_found(client, coordinator, family):
    visit = book(coordinator, family, at(2, 10))
    stranger = make_user("family_worker")
    login(client, stranger)
    assert client.get(f"/calendars/visits/{visit.id}").status_code == 404


def test_moving_a_visit_raises_its_sequence(client, coordinator, worker, family):
    visit = book(coordinator, family, at(2, 10))
    login(client, worker)
    url = f"/calendars/visits/{visit.id}"
    response = post_form(client, f"{url}/move",
                         {"day": "2026-12-03", "start": "12:00", "end": "13:30"}, url)
    assert response.status_code == 302
    db.session.expire_all()
    visit = db.session.get(HomeVisit, visit.id)
    assert (visit.start, visit.end, visit.sequence) == (at(3, 12), at(3, 13, 30), 1)


def test_moving_onto_a_clash_is_refused_on_the_visit_page(client, coordinator, worker,
                                                          family):
    visit = book(coordinator, family, at(2, 10))
    other = make_family(coordinator, workers=[worker], plan=True)
    book(coordinator, other, at(3, 12))
    login(client, worker)
    url = f"/calendars/visits/{visit.id}"
    response = post_form(client, f"{url}/move",
                         {"day": "2026-12-03", "start": "12:00", "end": "13:00"}, url)
    assert response.status_code == 422
    assert f"has the visit to {other.reference} at 12:00" in html_of(response)
    db.session.expire_all()
    assert db.session.get(HomeVisit, visit.id).start == at(2, 10)


def test_moving_outside_working_hours_needs_a_confirmation(client, coordinator, worker,
                                                           family):
    visit = book(coordinator, family, at(2, 10))
    login(client, worker)
    url = f"/calendars/visits/{visit.id}"
    fields = {"day": "2026-12-02", "start": "18:00", "end": "19:00"}
    response = post_form(client, f"{url}/move", fields, url)
    assert response.status_code == 422
    assert "Move despite the warnings" in html_of(response)
    response = post_form(client, f"{url}/move", {**fields, "confirm": "y"}, url)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(HomeVisit, visit.id).start == at(2, 18)


def test_bad_move_input_gets_field_errors(client, coordinator, worker, family):
    visit = book(coordinator, family, at(2, 10))
    login(client, worker)
    url = f"/calendars/visits/{visit.id}"
    response = post_form(client, f"{url}/move",
                         {"day": "2026-13-40", "start": "25:99", "end": ""}, url)
    assert response.status_code == 422
    html = html_of(response)
    assert 'id="day-error"' in html and 'id="start-error"' in html and 'id="end-error"' in html


def test_cancelling_a_visit_keeps_the_reason(client, coordinator, worker, family):
    visit = book(coordinator, family, at(2, 10))
    login(client, worker)
    url = f"/calendars/visits/{visit.id}"
    response = post_form(client, f"{url}/cancel", {"cancel_reason": "Lapsi sairastui"}, url)
    assert response.status_code == 302
    db.session.expire_all()
    visit = db.session.get(HomeVisit, visit.id)
    assert (visit.status, visit.status_reason, visit.sequence) == (
        "cancelled", "Lapsi sairastui", 1)
    html = html_of(client.get(url))
    assert "Cancelled: Lapsi sairastui" in html


def test_cancelling_needs_a_reason(client, coordinator, worker, family):
    visit = book(coordinator, family, at(2, 10))
    login(client, worker)
    url = f"/calendars/visits/{visit.id}"
    response = post_form(client, f"{url}/cancel", {"cancel_reason": ""}, url)
    assert response.status_code == 422
    assert 'id="cancel_reason-error"' in html_of(response)
    db.session.expire_all()
    assert db.session.get(HomeVisit, visit.id).status == "scheduled"


def test_a_held_visit_is_marked_done(client, coordinator, worker, family):
    visit = book(coordinator, family, datetime(2026, 11, 30, 8, 0, tzinfo=HELSINKI))
    login(client, worker)
    url = f"/calendars/visits/{visit.id}"
    assert "Mark as done" in html_of(client.get(url))
    response = post_form(client, f"{url}/done", {}, url)
    assert response.status_code == 302
    db.session.expire_all()
    visit = db.session.get(HomeVisit, visit.id)
    assert (visit.status, visit.sequence) == ("done", 0)


def test_a_visit_ahead_offers_no_outcome_and_refuses_one(client, coordinator, worker,
                                                         family):
    visit = book(coordinator, family, at(2, 10))
    login(client, worker)
    url = f"/calendars/visits/{visit.id}"
    assert "Mark as done" not in html_of(client.get(url))
    response = post_form(client, f"{url}/done", {}, url)
    assert response.status_code == 422
    assert "once its time has come" in html_of(response)
    db.session.expire_all()
    assert db.session.get(HomeVisit, visit.id).status == "scheduled"


def test_a_family_not_met_is_recorded_with_what_happened(client, coordinator, worker,
                                                         family):
    visit = book(coordinator, family, datetime(2026, 11, 30, 8, 0, tzinfo=HELSINKI))
    login(client, worker)
    url = f"/calendars/visits/{visit.id}"
    response = post_form(client, f"{url}/no-show", {"no_show_reason": "Ei ketään kotona"},
                         url)
    assert response.status_code == 302
    db.session.expire_all()
    visit = db.session.get(HomeVisit, visit.id)
    assert (visit.status, visit.status_reason) == ("no_show", "Ei ketään kotona")


def test_notes_are_saved_and_shown_only_on_the_visit_page(client, coordinator, worker,
                                                          family):
    visit = book(coordinator, family, at(2, 10))
    login(client, worker)
    url = f"/calendars/visits/{visit.id}"
    response = post_form(client, f"{url}/notes", {"notes": "Keskusteltiin unirytmistä"}, url)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(HomeVisit, visit.id).notes == "Keskusteltiin unirytmistä"
    assert "Keskusteltiin unirytmistä" in html_of(client.get(url))
    assert "unirytmistä" not in html_of(client.get("/calendars/week"))
    assert "unirytmistä" not in html_of(client.get(f"/families/{family.id}"))


def test_delete_asks_first_then_removes_the_visit(client, coordinator, worker, family):
    visit = book(coordinator, family, at(2, 10))
    login(client, worker)
    url = f"/calendars/visits/{visit.id}/delete"
    page = client.get(url)
    assert page.status_code == 200
    assert "Delete the visit of Wed 2 Dec 2026, 10:00?" in html_of(page)
    assert visit_count() == 1
    response = client.post(url, data={"csrf_token": csrf_token_from(html_of(page))})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/families/{family.id}"
    assert visit_count() == 0


def test_forms_without_a_csrf_token_are_refused(client, coordinator, worker, family):
    visit = book(coordinator, family, at(2, 10))
    login(client, worker)
    response = client.post("/calendars/visits/new", data=booking_fields(family, worker))
    assert response.status_code == 400
    response = client.post(f"/calendars/visits/{visit.id}/cancel",
                           data={"cancel_reason": "x"})
    assert response.status_code == 400
    response = client.post(f"/calendars/visits/{visit.id}/delete")
    assert response.status_code == 400
    assert visit_count() == 1


# --- the family's page -----------------------------------------------------

def test_family_page_lists_visits_and_offers_booking(client, coordinator, worker, family):
    ahead = book(coordinator, family, at(2, 10))
    past = book(coordinator, family, datetime(2026, 11, 27, 9, 0, tzinfo=HELSINKI))
    login(client, worker)
    html = html_of(client.get(f"/families/{family.id}"))
    assert f'href="/calendars/visits/{ahead.id}"' in html
    assert f'href="/calendars/visits/{past.id}"' in html
    assert html.index(f"/calendars/visits/{ahead.id}") < html.index("Recent")
    assert html.index(f"/calendars/visits/{past.id}") > html.index("Recent")
    assert f'href="/calendars/visits/new?family={family.id}"' in html


def test_family_page_offers_no_booking_to_a_social_worker(client, coordinator, worker,
                                                          social_worker):
    family = make_family(coordinator, track="child_protection", social_worker=social_worker,
                         workers=[worker], plan=True)
    login(client, social_worker)
    html = html_of(client.get(f"/families/{family.id}"))
    assert "Visits" in html and "/calendars/visits/new" not in html


def test_an_impossible_visit_id_is_not_found(client, worker):
    login(client, worker)
    assert client.get("/calendars/visits/99999999999999999999").status_code == 404
